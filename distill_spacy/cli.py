"""What the scripts share: turning the project's own errors, a missing or unwritable file and Ctrl-C
into one `✘ ... Fix: ...` message and an exit code, instead of a traceback."""
import sys
from contextlib import contextmanager
from typing import Iterator

import typer
from wasabi import msg

from . import errors
from .errors import UserError

# Exit codes: 1 for bad input or settings (the message says the fix), 130 for Ctrl-C (as a shell does).
EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130
OS_ERRORS = {PermissionError: errors.E_PERMISSION, FileNotFoundError: errors.E_NOT_FOUND}


@contextmanager
def user_errors(step: str, nothing_written: bool = True) -> Iterator[None]:
    """Run a step's work; print its user-facing failures in the project's words and exit.

    step (str): What the step does, for the first line ("Cannot build the transfer set").
    nothing_written (bool): Whether the step writes its outputs only at the end (atomically), so
        that a failure leaves nothing behind; the message says so.
    """
    suffix = ", nothing written" if nothing_written else ""
    try:
        yield
    except UserError as e:
        msg.fail(f"{step}{suffix}")
        print(e, file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except (PermissionError, FileNotFoundError) as e:
        msg.fail(f"{step}{suffix}")
        print(OS_ERRORS[type(e)].format(path=e.filename, error=e.strerror), file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        msg.warn(f"{step}: interrupted{suffix if nothing_written else ''}")
        sys.exit(EXIT_INTERRUPTED)


# The augmentation options, declared once: `augment` takes them; `ablate` and `search` read what it
# used from its summary instead of taking them again. Typer reads these defaults without changing
# them, so one object can serve several commands.
UNLABELLED = typer.Option(
    "", "--unlabelled", help="Unlabelled in-domain texts (.txt one per line, .csv, .jsonl); '' for none",
)
TEXT_COL = typer.Option("text", "--text-col", help="Column/field holding the text in CSV/JSONL inputs")
P_MASK = typer.Option(0.1, "--p-mask", min=0.0, max=1.0, help="Per token: probability of the mask token")
P_POS = typer.Option(0.1, "--p-pos", min=0.0, max=1.0, help="Per token: probability of a same-POS replacement")
P_NG = typer.Option(
    0.25, "--p-ng", min=0.0, max=1.0, help="Per sample: probability of cutting to an n-gram (n in 1..5)",
)
P_SENT = typer.Option(
    0.25, "--p-sent", min=0.0, max=1.0, help="Per sample: probability of cutting to one sentence",
)
MASK_TOKEN = typer.Option(
    "", "--mask-token", help="The teacher tokenizer's mask token; '' reads it from the teacher's tokenizer",
)
AUGMENTERS = typer.Option("", "--augmenters", help="More registered augmenters: 'NAME:p=0.1,key=value ...'")
N_ITER = typer.Option(20, "--n-iter", min=0, help="Samples drawn per source text")
BUDGET = typer.Option(0, "--budget", min=0, help="Most texts in a transfer set, sources included; 0: no cap")
POS_MODEL = typer.Option(
    "en_core_web_sm", "--pos-model", help="spaCy pipeline for POS tags and sentences; '' for none",
)
LANG = typer.Option("en", "--lang", help="Language code of the texts")
TEACHER = typer.Option(
    "sentence-transformers/all-MiniLM-L6-v2", "--teacher",
    help="The teacher (hub name, local folder or trained pipeline), for its tokenizer's mask token",
)
