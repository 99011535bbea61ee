"""Search the students on the accuracy-latency-size front (Optuna, multi-objective) and write the chosen one."""
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy import cli
from distill_spacy.ablation import AblationSettings
from distill_spacy.search import SearchSettings, run_search
from distill_spacy.search_space import SearchSpace, default_params, recipe_rates, trained_student_settings


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    baseline: Path = typer.Argument(..., exists=True, file_okay=False,
                                    help="Baseline pipeline: its dev score sets the pruning threshold"),
    train: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold training DocBin"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold dev DocBin (all objectives)"),
    test: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold test DocBin (leakage guard only)"),
    labels: Path = typer.Option(Path("corpus/labels.json"), "--labels", exists=True, dir_okay=False,
                                help="labels.json of the corpus"),
    study: Path = typer.Option(Path("training/search/study.sqlite"), "--study", dir_okay=False,
                               help="The study (SQLite): a rerun continues it"),
    output_dir: Path = typer.Option(Path("training/search"), "--output-dir", help="Trials and transfer sets"),
    metrics: Path = typer.Option(Path("metrics/search.json"), "--metrics", dir_okay=False),
    config_out: Path = typer.Option(Path("configs/student_search.cfg"), "--config-out", dir_okay=False,
                                    help="The chosen student's config"),
    transfer_out: Path = typer.Option(Path("corpus/transfer_search.spacy"), "--transfer-out",
                                      help="The chosen student's labelled transfer set"),
    cache: Path = typer.Option(Path("corpus/label_cache.sqlite"), "--cache", help="Label cache (SQLite)"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", exists=True, dir_okay=False,
                                               help="The teacher's calibration.json, as in `label`"),
    configs_dir: Path = typer.Option(Path("configs"), "--configs-dir", exists=True, file_okay=False),
    trials: int = typer.Option(30, "--trials", min=1, help="Finished trials the study should hold"),
    timeout: float = typer.Option(1800, "--timeout", min=0, help="Seconds for this run's trials; 0: none"),
    trial_seconds: float = typer.Option(60, "--trial-seconds", min=0,
                                        help="Training time per trial (not trial 0); 0: none"),
    latency_budget: float = typer.Option(0.0, "--latency-budget", help="p50 ms; <= 0: twice the default's"),
    metric: str = typer.Option("auto", "--metric", help="accuracy, macro_f1, or auto"),
    confidence: float = typer.Option(
        0.95, "--confidence", min=0, max=0.999,
        help="A trial replaces the default only when it beats it on dev with this confidence; 0: best dev wins",
    ),
    prune_margin: float = typer.Option(0.05, "--prune-margin", min=0,
                                       help="Prune a trial this far below the baseline's dev score after 1 epoch"),
    timing_texts: int = typer.Option(300, "--timing-texts", min=1, help="Dev texts timed one by one"),
    n_iter_choices: str = typer.Option("0,1", "--n-iter-choices", help="Samples per text to try, comma-separated"),
    choose_only: bool = typer.Option(False, "--choose-only", help="Run no trial: choose from the finished study"),
    default_arch: str = typer.Option("bow", "--default-arch", help="The default student (trial 0): student_arch"),
    student_config: Path = typer.Option(
        Path("training/student/bow/model-best/config.cfg"), "--student-config", dir_okay=False,
        help="The trained default student's config: its loss, temperature, alpha, vectors and epochs",
    ),
    transfer_summary: Path = typer.Option(
        Path("corpus/transfer.summary.json"), "--transfer-summary", dir_okay=False,
        help="The `augment` step's summary: the default transfer set's make-up",
    ),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass of the teacher"),
    balance: bool = typer.Option(False, "--balance/--no-balance"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
):
    """Run (or continue) the study and write metrics/search.json and the chosen student's config."""
    step = "Cannot choose a student" if choose_only else "Cannot search the students"
    with cli.user_errors(step, nothing_written=False):
        # The default student (trial 0) is the one `all` trained: its transfer set's make-up comes from
        # the augment step's summary, its training settings from its own config.
        student = trained_student_settings(student_config)
        recipe = AblationSettings.from_transfer_summary(
            transfer_summary, teacher=teacher, batch_size=batch_size, balance=balance,
            student_epochs=student["epochs"], gpu_id=gpu_id, progress=sys.stderr.isatty(), calibration=calibration,
        )
        n_iters = tuple(int(n) for n in n_iter_choices.replace(",", " ").split())
        n_labels = len(json.loads(labels.read_text(encoding="utf8")))
        has_unlabelled = recipe.unlabelled is not None
        default = default_params(default_arch, n_labels, student["epochs"], student["loss"], student["temperature"],
                                 student["alpha"], recipe.n_iter, recipe_rates(recipe.augmenter_specs),
                                 has_unlabelled, student["vectors"], configs_dir)
        space = SearchSpace(
            n_labels=n_labels, max_epochs=student["epochs"], default=default, n_iter_choices=n_iters,
            vectors=student["vectors"], has_unlabelled=has_unlabelled, configs_dir=configs_dir,
        )
        settings = SearchSettings(
            recipe=recipe, trials=trials, timeout=timeout or None, trial_seconds=trial_seconds or None,
            metric=metric, prune_margin=prune_margin, timing_texts=timing_texts, confidence=confidence,
            seed=recipe.seed,
        )
        try:
            run_search(teacher, baseline, train, dev, test, space, settings, study, output_dir, metrics,
                       config_out, transfer_out, cache, latency_budget, choose_only)
        except KeyboardInterrupt:
            msg.warn(f"Interrupted: the finished trials are kept in {study}; run the same command again "
                     "to continue the study")
            raise
    msg.good(f"Wrote {metrics}, {config_out} and {transfer_out}: train it with --vars.student_arch search")


if __name__ == "__main__":
    typer.run(main)
