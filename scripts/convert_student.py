"""Save the trained student as the stock-spaCy pipeline that ships: what evaluate times and package packs."""
from pathlib import Path

import typer
from wasabi import msg

from distill_spacy.student import convert_to_stock


def main(
    student: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained student (model-best)"),
    output_dir: Path = typer.Argument(..., help="Folder for the stock-spaCy pipeline"),
):
    """Save the trained student as a pipeline whose config names spaCy's stock textcat factory."""
    convert_to_stock(student, output_dir)
    msg.good(f"Wrote {output_dir}: the student as a stock spaCy textcat (loads without distill_spacy)")


if __name__ == "__main__":
    typer.run(main)
