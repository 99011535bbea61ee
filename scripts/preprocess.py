"""Validate labelled CSV/JSONL/Rasa YAML splits and convert them to spaCy DocBins."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy.data import preprocess
from distill_spacy.cli import user_errors
from distill_spacy.languages import check_lang, teacher_language_warning


def main(
    train: Path = typer.Argument(..., exists=True, dir_okay=False, help="Training data (.csv, .jsonl, .yml)"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Development data"),
    test: Optional[Path] = typer.Argument(None, exists=True, dir_okay=False, help="Test data"),
    output_dir: Path = typer.Option(Path("corpus"), "--output-dir", "-o", help="Folder for <split>.spacy"),
    lang: str = typer.Option("en", "--lang", help="Language code of the tokenizer"),
    text_col: str = typer.Option("text", "--text-col", help="Column/field holding the text"),
    label_col: str = typer.Option("label", "--label-col", help="Column/field holding the label"),
    teacher: str = typer.Option("", "--teacher", help="The teacher's name, to warn when it does not know --lang"),
):
    """Validate labelled CSV/JSONL/Rasa YAML splits and convert them to spaCy DocBins."""
    inputs = {"train": train, "dev": dev}
    if test is not None:
        inputs["test"] = test
    warning = teacher_language_warning(lang, teacher)
    if warning:
        msg.warn(warning)
    with user_errors("Invalid input"):
        check_lang(lang)
        summary = preprocess(inputs, output_dir, lang=lang, text_col=text_col, label_col=label_col)
    for name, counts in summary.label_counts.items():
        msg.text(f"{name}: " + ", ".join(f"{label} {n}" for label, n in sorted(counts.items())))
    msg.good(
        f"Wrote {', '.join(f'{n} {name}' for name, n in summary.counts.items())} docs "
        f"with {len(summary.labels)} labels to {output_dir}"
    )


if __name__ == "__main__":
    typer.run(main)
