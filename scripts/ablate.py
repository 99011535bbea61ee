"""Ablations: train the student without each part of the recipe in turn and score it on the test set."""
import sys
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from distill_spacy.ablation import VARIANTS, AblationSettings, parse_variants, run_ablation
from distill_spacy.augment import AugmenterError, default_augmenter_specs, parse_augmenter_specs
from distill_spacy.errors import DataError, ModelNotFound
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
    unlabelled: str = typer.Option(
        "", "--unlabelled", help="Unlabelled in-domain texts (.txt one per line, .csv, .jsonl); '' for none",
    ),
    text_col: str = typer.Option("text", "--text-col", help="Column/field holding the text in CSV/JSONL inputs"),
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
        0, "--budget", min=0, help="Most texts in a transfer set, sources included; 0: no cap",
    ),
    pos_model: str = typer.Option(
        "en_core_web_sm", "--pos-model", help="spaCy pipeline for POS tags and sentences; '' for none",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of augmentation and balancing"),
    student_epochs: int = typer.Option(2, "--student-epochs", min=1, help="Epochs over an augmented transfer set"),
    gold_epochs: int = typer.Option(30, "--gold-epochs", min=1, help="Epochs over the training texts alone"),
    lang: str = typer.Option("en", "--lang", help="Language code of the texts"),
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
    except (DataError, ModelNotFound, AugmenterError, ValueError) as e:
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
