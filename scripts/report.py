"""Re-render the evaluation report: add the wheel's size or the ablation table, copy the results to the README."""
import json
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy.evaluate import attach_wheels
from distill_spacy.report import load_ablation, results_table, update_readme, write_report


def main(
    metrics: Path = typer.Argument(Path("metrics"), exists=True, file_okay=False, help="Folder with report.json"),
    wheel_dir: Optional[Path] = typer.Option(None, "--wheel-dir", help="Where `spacy package` wrote the wheel"),
    ablation: Optional[Path] = typer.Option(None, "--ablation", help="ablation.json from the ablate command"),
    readme: Optional[Path] = typer.Option(None, "--readme", help="README whose results block to replace"),
):
    """Update metrics/report.json and re-render REPORT.md and the plots, without measuring again."""
    report_path = metrics / "report.json"
    if not report_path.exists():
        msg.fail(f"{report_path} does not exist", "Run `spacy project run evaluate` first.", exits=1)
    report = json.loads(report_path.read_text(encoding="utf8"))
    if wheel_dir is not None:
        n = attach_wheels(report, wheel_dir)
        msg.info(f"Wheels in {wheel_dir} that pack a reported model: {n}")
    if ablation is not None:
        report["ablation"] = load_ablation(ablation)
        if report["ablation"] is None:
            msg.fail(f"{ablation} does not exist", "Run `spacy project run ablate` first.", exits=1)
    write_report(report, metrics)
    msg.good(f"Re-rendered {metrics / 'REPORT.md'}")
    if readme is not None:
        changed = update_readme(readme, results_table(report))
        msg.good(f"{readme}: results table {'updated' if changed else 'already up to date'}")


if __name__ == "__main__":
    typer.run(main)
