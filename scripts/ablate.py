"""Ablations: train the student without each part of the recipe in turn and score it on the test set."""
import sys
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from distill_spacy.ablation import VARIANTS, AblationSettings, parse_variants, run_ablation
from distill_spacy.cli import user_errors
from distill_spacy.report import ablation_rows

app = typer.Typer(add_completion=False)


# Extra arguments are dotted overrides for every student's config, as in `spacy train`.
@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    baseline: Path = typer.Argument(..., exists=True, file_okay=False, help="Baseline trained on the gold labels"),
    train: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold training DocBin"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold dev DocBin"),
    test: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold test DocBin"),
    config: Path = typer.Option(
        Path("configs/student_bow.cfg"), "--config", exists=True, dir_okay=False, help="Student config",
    ),
    output_dir: Path = typer.Option(Path("training/ablation"), "--output-dir", help="One folder per variant"),
    metrics: Path = typer.Option(Path("metrics/ablation.json"), "--metrics", dir_okay=False, help="Scores (JSON)"),
    cache: Path = typer.Option(Path("corpus/label_cache.sqlite"), "--cache", help="Label cache (SQLite)"),
    transfer_summary: Path = typer.Option(
        Path("corpus/transfer.summary.json"), "--transfer-summary", dir_okay=False,
        help="The `augment` step's summary: its augmenters, budget, POS model, unlabelled texts, seed and lang",
    ),
    n_iter: Optional[int] = typer.Option(
        None, "--n-iter", min=1, help="Samples per text in the augmented variants; default: the augment step's",
    ),
    student_epochs: int = typer.Option(2, "--student-epochs", min=1, help="Epochs over an augmented transfer set"),
    gold_epochs: int = typer.Option(30, "--gold-epochs", min=1, help="Epochs over the training texts alone"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass of the teacher"),
    balance: bool = typer.Option(
        False, "--balance/--no-balance", help="Drop augmented texts of over-represented teacher labels",
    ),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
    variants: str = typer.Option(
        "", "--variants", help=f"Comma-separated subset of {','.join(v.name for v in VARIANTS)}; '' for all",
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild variants whose outputs exist"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", exists=True, dir_okay=False,
                                               help="The teacher's calibration.json (its temperature), as in `label`"),
):
    """Train the student without each part of the recipe in turn and score it on the test set."""
    with user_errors("Ablation stopped", nothing_written=False):
        chosen = parse_variants(variants)
        training = dict(
            batch_size=batch_size, balance=balance, student_epochs=student_epochs, gold_epochs=gold_epochs,
            gpu_id=gpu_id, overrides=parse_config_overrides(ctx.args), progress=sys.stderr.isatty(),
            calibration=calibration,
        )
        if n_iter is not None:
            training["n_iter"] = n_iter
        settings = AblationSettings.from_transfer_summary(transfer_summary, teacher=teacher, **training)
        result = run_ablation(
            teacher, baseline, train, dev, test, config, output_dir, metrics, cache,
            settings=settings, variants=chosen, force=force,
        )
    msg.divider("Ablation")
    msg.text(
        f"Test set {result['test']} ({result['n']} texts): teacher accuracy {result['teacher_accuracy']:.3f}, "
        f"baseline accuracy {result['baseline_accuracy']:.3f}"
    )
    header, rows = ablation_rows(result)
    msg.table(rows, header=header, divider=True, aligns=("l", "l") + ("r",) * (len(header) - 2))
    msg.good(f"Ran {len(chosen)} of {len(VARIANTS)} variants in {output_dir}; wrote {metrics}")


if __name__ == "__main__":
    app()
