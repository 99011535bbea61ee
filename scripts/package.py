"""Convert the trained student to a stock-spaCy pipeline with a model card, ready for `spacy package`."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy.package import model_card, prepare_package, read_search_section


def main(
    student: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained student pipeline"),
    output_dir: Path = typer.Argument(..., help="Folder for the converted pipeline"),
    name: str = typer.Option(..., "--name", help="Package name (without the language prefix)"),
    version: str = typer.Option(..., "--version", help="Package version"),
    report: Path = typer.Option(Path("metrics/evaluation.json"), "--report", help="evaluation.json from evaluate"),
    transfer_summary: Optional[Path] = typer.Option(None, "--transfer-summary", help="transfer.summary.json from augment"),
    teacher: str = typer.Option("", "--teacher", help="The teacher's model name"),
    dataset: str = typer.Option("", "--dataset", help="The labelled training data"),
):
    """Convert the trained student to a stock-spaCy pipeline with a model card, ready for `spacy package`."""
    card = model_card(report, transfer_summary, teacher, dataset, read_search_section(student))
    prepare_package(student, output_dir, name, version, card)
    msg.good(f"Wrote {output_dir}: a stock spaCy textcat with the model card in meta.json")


if __name__ == "__main__":
    typer.run(main)
