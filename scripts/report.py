"""Rebuild metrics/report.json, REPORT.md and the plots from evaluation.json, the wheel and the ablations."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy.report import build_report, results_table, update_readme


def main(
    metrics: Path = typer.Argument(Path("metrics"), exists=True, file_okay=False, help="Folder with evaluation.json"),
    readme: Optional[Path] = typer.Option(None, "--readme", help="README whose results block to replace"),
):
    """Rebuild the report without measuring again: after `package` (wheel size) and `ablate` (ablation table)."""
    try:
        report = build_report(metrics)
    except FileNotFoundError as e:
        msg.fail(str(e), exits=1)
    wheels = sum(model["size"]["wheel"] is not None for model in report["models"].values())
    ablation = len((report.get("ablation") or {}).get("variants", []))
    msg.good(f"Rebuilt {metrics / 'REPORT.md'} (wheels found: {wheels}, ablation variants: {ablation})")
    if readme is not None:
        changed = update_readme(readme, results_table(report))
        msg.good(f"{readme}: results table {'updated' if changed else 'already up to date'}")


if __name__ == "__main__":
    typer.run(main)
