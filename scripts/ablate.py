"""Ablations: train the student without each part of the recipe in turn and score it on the test set."""
import sys
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from distill_spacy import cli
from distill_spacy.ablation import VARIANTS, AblationSettings, parse_variants, run_ablation
from distill_spacy.augment import default_augmenter_specs, parse_augmenter_specs
from distill_spacy.errors import UserError
from distill_spacy.languages import fill_mask_token
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
    seed: int = typer.Option(0, "--seed", help="Seed of augmentation and balancing"),
    student_epochs: int = typer.Option(2, "--student-epochs", min=1, help="Epochs over an augmented transfer set"),
    gold_epochs: int = typer.Option(30, "--gold-epochs", min=1, help="Epochs over the training texts alone"),
    lang: str = cli.LANG,
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
    try:
        chosen = parse_variants(variants)
        specs = default_augmenter_specs(p_mask, p_pos, p_ng, p_sent, mask_token)
        specs.update(parse_augmenter_specs(extra))
        if n_iter > 0:  # masking hides words behind the trained teacher's own mask token
            specs = fill_mask_token(specs, str(teacher))
        settings = AblationSettings(
            augmenter_specs=specs, n_iter=n_iter, budget=budget, pos_model=pos_model,
            unlabelled=unlabelled or None, text_col=text_col, seed=seed, lang=lang, batch_size=batch_size,
            balance=balance, student_epochs=student_epochs, gold_epochs=gold_epochs, gpu_id=gpu_id,
            overrides=parse_config_overrides(ctx.args), progress=sys.stderr.isatty(),
            calibration=calibration,
        )
        result = run_ablation(
            teacher, baseline, train, dev, test, config, output_dir, metrics, cache,
            settings=settings, variants=chosen, force=force,
        )
    except (UserError, ValueError) as e:
        msg.fail("Ablation stopped")
        print(e, file=sys.stderr)
        sys.exit(1)
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
