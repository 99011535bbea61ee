"""Build the student's static vectors from the teacher's input embeddings (a spaCy vectors folder)."""
from pathlib import Path
from typing import List

import typer
from wasabi import msg

from distill_spacy.vectors import init_vectors


def main(
    model: str = typer.Argument(..., help="The teacher: a trained spaCy teacher pipeline, a Hugging Face folder or a hub name"),
    output_dir: Path = typer.Argument(..., file_okay=False, help="Vectors folder to write (for [initialize] vectors)"),
    texts: List[Path] = typer.Option(..., "--texts", "-t", exists=True, help="Training/transfer texts (.spacy file or folder of shards), repeatable; never dev or test"),
    lang: str = typer.Option("en", "--lang", "-l", help="Language of the student"),
    source: str = typer.Option("input", "--source", "-s", help="input: wordpiece input embeddings; output: the teacher's last layer on each word alone"),
    include_vocab: bool = typer.Option(True, "--include-vocab/--no-include-vocab", help="Add the whole words of the WordPiece vocabulary"),
):
    """Build the student's static vectors from the teacher's input embeddings (a spaCy vectors folder)."""
    summary = init_vectors(model, texts, output_dir, source=source, lang=lang, include_vocab=include_vocab)
    msg.good(
        f"Wrote {summary.rows} vectors of width {summary.width} to {summary.output_dir}; "
        f"{summary.corpus_words_with_vector} of {summary.corpus_words} corpus words covered"
    )


if __name__ == "__main__":
    typer.run(main)
