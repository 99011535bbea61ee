"""Build the transfer set: training texts plus masked, POS-replaced, n-gram and sentence samples."""
import sys
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from distill_spacy import cli
from distill_spacy.augment import augment, default_augmenter_specs, parse_augmenter_specs
from distill_spacy.cli import user_errors


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
    unlabelled: str = cli.UNLABELLED,
    text_col: str = cli.TEXT_COL,
    p_mask: float = cli.P_MASK,
    p_pos: float = cli.P_POS,
    p_ng: float = cli.P_NG,
    p_sent: float = cli.P_SENT,
    mask_token: str = cli.MASK_TOKEN,
    extra: str = cli.AUGMENTERS,
    n_iter: int = cli.N_ITER,
    budget: int = cli.BUDGET,
    pos_model: str = cli.POS_MODEL,
    lang: str = cli.LANG,
    teacher: str = cli.TEACHER,
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same file"),
):
    """Build the transfer set: training texts plus masked, POS-replaced, n-gram and sentence samples."""
    heldout: List[Path] = [p for p in (dev, test) if p is not None]
    with user_errors("Cannot build the transfer set"):
        specs = default_augmenter_specs(p_mask, p_pos, p_ng, p_sent, mask_token)
        specs.update(parse_augmenter_specs(extra))
        summary = augment(
            train, output, heldout=heldout, unlabelled=unlabelled or None, augmenter_specs=specs,
            n_iter=n_iter, budget=budget, pos_model=pos_model, lang=lang, seed=seed,
            text_col=text_col, progress=sys.stderr.isatty(), teacher=teacher,
        )
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
