"""Score baseline, teacher and students side by side; write metrics/evaluation.json, then the report."""
import sys
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from distill_spacy import errors
from distill_spacy.evaluate import evaluate_models
from distill_spacy.report import build_report, summary_rows, write_evaluation


def main(
    test: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold test data (.spacy)"),
    output_dir: Path = typer.Argument(Path("metrics"), help="Folder for evaluation.json, report.json, REPORT.md, plots"),
    model: List[str] = typer.Option(..., "--model", "-m", help="name=path of a pipeline (repeatable); "
                                    "'baseline' and 'teacher' name those roles, other names are students"),
    wheel_dir: Optional[Path] = typer.Option(None, "--wheel-dir", help="Where `spacy package` writes wheels"),
    ablation: Optional[Path] = typer.Option(None, "--ablation", help="Where the ablate command writes ablation.json"),
    repeats: int = typer.Option(3, "--repeats", help="Timing repeats (the report gives their medians)"),
    n_single: int = typer.Option(300, "--n-single", help="Messages timed one by one per repeat"),
    speed: bool = typer.Option(True, "--speed/--no-speed", help="Time the models and measure their memory"),
    calibration: List[str] = typer.Option([], "--calibration", help="name=calibration.json of a model (the teacher's), "
                                          "to report its ECE after re-tempering too (repeatable)"),
):
    """Score pipelines on the gold test set, on CPU, and write the evaluation report."""
    models = {}
    for spec in model:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_dir():
            msg.fail(errors.E_MODEL_SPEC.format(spec=spec), exits=1)
        models[name] = Path(path)
    calibrations = {}
    for spec in calibration:
        name, sep, path = spec.partition("=")
        if not sep or name not in models or not Path(path).is_file():
            msg.fail(errors.E_CALIBRATION_SPEC.format(spec=spec), exits=1)
        calibrations[name] = Path(path)
    command = "python " + " ".join(sys.argv)
    evaluation = evaluate_models(
        models, test, speed=speed, memory=speed, repeats=repeats, n_single=n_single,
        command=command, calibration=calibrations,
    )
    evaluation["sources"] = {"wheel_dir": str(wheel_dir) if wheel_dir else None,
                             "ablation": str(ablation) if ablation else None}
    write_evaluation(evaluation, output_dir)
    report = build_report(output_dir)
    header, rows = summary_rows(report)
    msg.table(rows, header=header, divider=True)
    msg.good(f"Scored {len(models)} models on {report['n']} test examples; report in {output_dir / 'REPORT.md'}")


if __name__ == "__main__":
    typer.run(main)
