"""Fit the teacher's temperature on the dev set (NLL, Guo et al. 2017) and write calibration.json."""
from pathlib import Path

import typer
from wasabi import msg

from distill_spacy.calibration import calibrate_teacher
from distill_spacy.cli import user_errors


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold dev DocBin (.spacy)"),
    output: Path = typer.Argument(..., dir_okay=False, help="calibration.json to write"),
):
    """Fit the teacher's temperature on the dev set (NLL, Guo et al. 2017) and write calibration.json."""
    with user_errors("Cannot calibrate the teacher"):
        c = calibrate_teacher(teacher, dev, output)
    msg.good(
        f"Teacher temperature T = {c.temperature:.4g} on {c.n_examples} dev texts: "
        f"ECE {c.ece_before:.3f} -> {c.ece_after:.3f}, NLL {c.nll_before:.3f} -> {c.nll_after:.3f} "
        f"(accuracy {c.accuracy:.3f}, unchanged); wrote {output}"
    )


if __name__ == "__main__":
    typer.run(main)
