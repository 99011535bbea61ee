"""Can the student's architecture represent the teacher? Train it on the teacher's probabilities of the
test texts themselves and report how often it then agrees with the teacher on them.

A diagnostic, not a result: the student sees the test texts. High agreement means the architecture can
express the teacher's decisions on these texts, so a gap in the real run comes from the transfer set
(which texts the student learns from), not from the student's capacity.
"""
import json
from pathlib import Path

import spacy
import typer
from spacy.cli.train import train
from spacy.tokens import DocBin
from wasabi import msg

from distill_spacy.data import write_atomic
from distill_spacy.evaluate import gold_labels, predict_from_probs, predict_probs, quality_metrics


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="The trained teacher"),
    test: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold test data (.spacy)"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold dev data (.spacy)"),
    output_dir: Path = typer.Argument(..., help="Folder for the labelled texts and the student"),
    config: Path = typer.Option(Path("configs/student_bow.cfg"), "--config", help="The student config"),
    epochs: int = typer.Option(10, "--epochs", help="Passes over the test texts"),
):
    """Train the student on the teacher's probabilities of the test texts; report agreement on them."""
    docs = list(DocBin().from_disk(test).get_docs(spacy.blank("xx").vocab))
    texts, labels, gold = [d.text for d in docs], list(docs[0].cats), gold_labels(docs)
    teacher_probs = predict_probs(spacy.load(teacher), texts, labels)
    labelled = DocBin()
    for doc, row in zip(docs, teacher_probs):
        doc.cats = {label: float(p) for label, p in zip(labels, row)}
        labelled.add(doc)
    output_dir.mkdir(parents=True, exist_ok=True)
    labelled.to_disk(output_dir / "test.teacher.spacy")
    overrides = {"paths.train": str(output_dir / "test.teacher.spacy"), "paths.dev": str(dev),
                 "training.max_epochs": epochs, "components.textcat.warmup_examples": 0}
    train(config, output_dir / "student", overrides=overrides)
    student = spacy.load(output_dir / "student" / "model-last")
    scores = quality_metrics(gold, predict_probs(student, texts, labels), labels,
                             reference=predict_from_probs(teacher_probs, labels))
    result = {key: scores[key] for key in ("n", "accuracy", "agreement_with_teacher")}
    write_atomic(output_dir / "fit.json", (json.dumps(result, indent=2) + "\n").encode("utf8"))
    msg.good(f"Fitted on the teacher's probabilities of {len(texts)} test texts: accuracy "
             f"{result['accuracy']:.3f}, agreement with the teacher {result['agreement_with_teacher']:.3f}")


if __name__ == "__main__":
    typer.run(main)
