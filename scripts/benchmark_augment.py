"""Time `augment` on the training set: wall seconds for N augmented texts, POS model and tagging included."""
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy.augment import augment
from distill_spacy.data import read_texts, write_atomic


def main(
    train: Path = typer.Argument(
        Path("corpus/train.spacy"), exists=True, dir_okay=False, help="Training texts",
    ),
    output: Path = typer.Option(
        Path("metrics/benchmarks/augment.json"), "--output", "-o", help="Figures (JSON)",
    ),
    dev: Optional[Path] = typer.Option(
        None, "--dev", exists=True, dir_okay=False, help="Dev texts for the leakage guard",
    ),
    test: Optional[Path] = typer.Option(
        None, "--test", exists=True, dir_okay=False, help="Test texts for the leakage guard",
    ),
    target: int = typer.Option(60000, "--target", min=1, help="Augmented texts to produce"),
    n_iter: int = typer.Option(
        300, "--n-iter", min=1, help="Upper bound of samples per text; the budget stops earlier",
    ),
    pos_model: str = typer.Option("en_core_web_sm", "--pos-model", help="POS pipeline; '' for none"),
    seed: int = typer.Option(0, "--seed", help="Random seed"),
):
    """Time `augment` on the training set: wall seconds for N augmented texts, POS model and tagging included."""
    n_sources = len(read_texts(train))
    heldout = [p for p in (dev, test) if p is not None]
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = augment(
            train, Path(tmp) / "transfer.jsonl", heldout=heldout, n_iter=n_iter,
            budget=n_sources + target, pos_model=pos_model, seed=seed,
        )
        wall = time.perf_counter() - start
    figures = {
        "train": str(train),
        "sources": n_sources,
        "augmented": summary.kept,
        "target": target,
        "drawn": summary.drawn,
        "dropped_duplicates": summary.dropped_duplicates,
        "dropped_leakage": summary.dropped_leakage,
        "seconds": round(wall, 2),
        "seconds_by_phase": summary.seconds,
        "augmented_per_second": round(summary.kept / wall),
        "under_60_seconds": wall < 60 and summary.kept >= target,
        "pos_model": summary.settings["pos_pipeline"] or "(none)",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_before": load_before,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
    }
    write_atomic(output, (json.dumps(figures, indent=2) + "\n").encode("utf8"))
    print(json.dumps(figures, indent=2))
    msg.good(
        f"{summary.kept} augmented texts from {n_sources} sources in {wall:.1f} s "
        f"({figures['augmented_per_second']}/s); figures in {output}"
    )


if __name__ == "__main__":
    typer.run(main)
