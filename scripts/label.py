"""Label the transfer set with the teacher's class probabilities and write the student's DocBin."""
from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from distill_spacy.cli import user_errors
from distill_spacy.label import label_transfer_set


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    transfer: Path = typer.Argument(..., exists=True, dir_okay=False, help="Transfer texts (.jsonl from augment)"),
    train: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold training DocBin (for the originals)"),
    output: Path = typer.Argument(..., dir_okay=False, help="DocBin to write (.spacy)"),
    cache: Path = typer.Option(Path("corpus/label_cache.sqlite"), "--cache", help="Label cache (SQLite)"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", exists=True, dir_okay=False,
                                               help="The teacher's calibration.json: its temperature re-tempers the probabilities"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass"),
    balance: bool = typer.Option(False, "--balance/--no-balance", help="Drop augmented texts of over-represented teacher labels"),
    seed: int = typer.Option(0, "--seed", help="Seed of the balancing draw"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
):
    """Label the transfer set with the teacher's class probabilities and write the student's DocBin."""
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    # Ctrl-C keeps every finished batch in the cache (the message says so); outputs come at the end.
    with user_errors("Cannot label the transfer set"):
        summary = label_transfer_set(teacher, transfer, train, output, cache, batch_size, balance, seed, calibration)
    summary_path = output.with_suffix(".labels.json")
    shares = ", ".join(
        f"{label} {n / summary.texts:.0%}" for label, n in sorted(summary.teacher_label_counts.items())
    )
    msg.info(f"Teacher labels over the transfer set: {shares}")
    if summary.dropped_by_balancing:
        msg.info(f"Balancing dropped {sum(summary.dropped_by_balancing.values())} texts: {summary.dropped_by_balancing}")
    if calibration:
        msg.info(
            f"Teacher temperature fitted on dev {summary.fitted_temperature:.4g}, applied "
            f"{summary.temperature:.4g} (only T < 1, sharpening, is applied): mean top probability "
            f"{summary.mean_max_probability_raw:.3f} -> {summary.mean_max_probability:.3f}"
        )
    msg.good(
        f"Labelled {summary.texts} texts ({summary.from_cache} from the cache), "
        f"{summary.with_gold} with gold labels; wrote {output} and {summary_path}"
    )


if __name__ == "__main__":
    typer.run(main)
