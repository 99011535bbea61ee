"""Build the transfer set: training texts plus masked, POS-replaced, n-gram and sentence samples."""
import sys
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from distill_spacy.augment import AugmenterError, augment, default_augmenter_specs, parse_augmenter_specs
from distill_spacy.errors import DataError, ModelNotFound


def main(
    train: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Training texts (.spacy; .txt/.csv/.jsonl work too)",
    ),
    output: Path = typer.Argument(
        Path("corpus/transfer.jsonl"), dir_okay=False, help="Transfer set (JSONL); the summary goes beside it",
    ),
    dev: Optional[Path] = typer.Option(
        None, "--dev", exists=True, dir_okay=False, help="Dev texts: no augmented text may equal one",
    ),
    test: Optional[Path] = typer.Option(
        None, "--test", exists=True, dir_okay=False, help="Test texts: no augmented text may equal one",
    ),
    unlabelled: str = typer.Option(
        "", "--unlabelled", help="Unlabelled in-domain texts (.txt one per line, .csv, .jsonl); '' for none",
    ),
    text_col: str = typer.Option(
        "text", "--text-col", help="Column/field holding the text in CSV/JSONL inputs",
    ),
    p_mask: float = typer.Option(
        0.1, "--p-mask", min=0.0, max=1.0, help="Per token: probability of the mask token",
    ),
    p_pos: float = typer.Option(
        0.1, "--p-pos", min=0.0, max=1.0, help="Per token: probability of a same-POS replacement",
    ),
    p_ng: float = typer.Option(
        0.25, "--p-ng", min=0.0, max=1.0, help="Per sample: probability of cutting to an n-gram (n in 1..5)",
    ),
    p_sent: float = typer.Option(
        0.25, "--p-sent", min=0.0, max=1.0, help="Per sample: probability of cutting to one sentence",
    ),
    mask_token: str = typer.Option("[MASK]", "--mask-token", help="The teacher tokenizer's mask token"),
    extra: str = typer.Option(
        "", "--augmenters", help="More registered augmenters: 'NAME:p=0.1,key=value ...'",
    ),
    n_iter: int = typer.Option(20, "--n-iter", min=0, help="Samples drawn per source text"),
    budget: int = typer.Option(
        0, "--budget", min=0, help="Most texts in the transfer set, sources included; 0: no cap",
    ),
    pos_model: str = typer.Option(
        "en_core_web_sm", "--pos-model", help="spaCy pipeline for POS tags and sentences; '' for none",
    ),
    lang: str = typer.Option("en", "--lang", help="Language code of the texts"),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same file"),
):
    """Build the transfer set: training texts plus masked, POS-replaced, n-gram and sentence samples."""
    heldout: List[Path] = [p for p in (dev, test) if p is not None]
    try:
        specs = default_augmenter_specs(p_mask, p_pos, p_ng, p_sent, mask_token)
        specs.update(parse_augmenter_specs(extra))
        summary = augment(
            train, output, heldout=heldout, unlabelled=unlabelled or None, augmenter_specs=specs,
            n_iter=n_iter, budget=budget, pos_model=pos_model, lang=lang, seed=seed,
            text_col=text_col, progress=sys.stderr.isatty(),
        )
    except (DataError, ModelNotFound, AugmenterError) as e:
        msg.fail("Cannot build the transfer set, nothing written")
        print(e, file=sys.stderr)
        sys.exit(1)
    msg.table(
        [
            ("originals", summary.originals),
            ("unlabelled", summary.unlabelled),
            ("drawn", summary.drawn),
            ("kept", summary.kept),
            ("dropped as duplicates", summary.dropped_duplicates),
            ("dropped by the leakage guard", summary.dropped_leakage + summary.unlabelled_leakage),
            *((f"method {name}", n) for name, n in summary.methods.items()),
            ("seconds", summary.seconds["total"]),
        ],
        aligns=("l", "r"),
    )
    msg.good(
        f"Wrote {summary.total} texts ({summary.total - summary.kept} sources + {summary.kept} augmented) "
        f"to {summary.outputs['transfer']}; dropped {summary.dropped_duplicates} duplicates and "
        f"{summary.dropped_leakage + summary.unlabelled_leakage} by the leakage guard; "
        f"summary in {summary.outputs['summary']}"
    )


if __name__ == "__main__":
    typer.run(main)
