"""Benchmark the int8 teacher against the fp32 one: labelling speed, agreement of the labels, and the
test accuracy of a student trained on each label set, in one run."""
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

import numpy
import spacy
import torch
import typer
from wasabi import msg

from distill_spacy.data import read_transfer_texts
from distill_spacy.evaluate import predict_probs, quality_metrics, read_gold
from distill_spacy.formatting import _table as markdown_table
from distill_spacy.label import LabelCache, label_transfer_set, teacher_fingerprint, teacher_logprobs
from distill_spacy.precision import PRECISIONS, cache_key, label_agreement, load_teacher

ROOT = Path(__file__).parent.parent


def time_labelling(nlp, texts: List[str], labels: List[str], batch_size: int) -> float:
    """Seconds to label the texts as `label` does: sorted by length, in batches."""
    ordered = sorted(texts, key=len)
    start = time.perf_counter()
    for i in range(0, len(ordered), batch_size):
        teacher_logprobs(nlp, ordered[i : i + batch_size], labels)
    return time.perf_counter() - start


def train_and_score(config: Path, transfer: Path, dev: Path, test: Path, labels_json: Path, output: Path,
                    epochs: int, lang: str) -> dict:
    """Train a student with scripts/train_student.py and score it on the test set."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_student.py"), str(config), str(output), "--labels", str(labels_json),
         "--paths.train", str(transfer), "--paths.dev", str(dev), "--nlp.lang", lang,
         "--training.max_epochs", str(epochs)],
        check=True,
    )
    texts, gold, labels = read_gold(test)
    probs = predict_probs(spacy.load(output / "model-stock"), texts, labels)
    quality = quality_metrics(gold, probs, labels)
    return {"accuracy": quality["accuracy"], "macro_f1": quality["macro_f1"], "test_texts": len(texts)}


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    transfer: Path = typer.Argument(..., exists=True, dir_okay=False, help="Transfer texts (.jsonl)"),
    train: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold training DocBin"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold dev DocBin (the students' checkpoints)"),
    test: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold test DocBin (the students' accuracy)"),
    labels_json: Path = typer.Option(Path("corpus/labels.json"), "--labels", exists=True, dir_okay=False, help="labels.json"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", exists=True, dir_okay=False, help="The teacher's calibration.json"),
    config: Path = typer.Option(Path("configs/student_bow.cfg"), "--config", exists=True, dir_okay=False, help="Student config"),
    cache: Path = typer.Option(Path("corpus/label_cache.sqlite"), "--cache", help="Label cache (fp32 and int8 are kept apart)"),
    workdir: Path = typer.Option(Path("training/int8"), "--workdir", help="Label sets and students of both precisions"),
    output: Path = typer.Option(Path("metrics/int8.json"), "--output", "-o", help="Figures (and a .md table beside)"),
    n_texts: int = typer.Option(2000, "--n-texts", "-n", help="Texts timed per precision (a seeded sample of the transfer set)"),
    repeats: int = typer.Option(3, "--repeats", "-r", min=1, help="Timed runs per precision, alternating; medians reported"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass"),
    student_epochs: int = typer.Option(30, "--student-epochs", help="Most passes of each student (0: no students)"),
    lang: str = typer.Option("en", "--lang"),
    seed: int = typer.Option(0, "--seed"),
):
    """Benchmark the int8 teacher against the fp32 one: speed, label agreement, student accuracy."""
    rows = read_transfer_texts(transfer)
    all_texts = list(dict.fromkeys(r["text"] for r in rows))
    sample = random.Random(seed).sample(all_texts, min(n_texts, len(all_texts)))
    teachers = {p: load_teacher(teacher, p) for p in PRECISIONS}
    labels = list(teachers["fp32"].get_pipe("textcat").labels)
    for nlp in teachers.values():  # warm-up
        time_labelling(nlp, sample[:batch_size], labels, batch_size)
    seconds = {p: [] for p in PRECISIONS}
    for r in range(repeats):
        for p in (PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]):  # alternate, against drift
            seconds[p].append(time_labelling(teachers[p], sample, labels, batch_size))
            msg.info(f"{p}: {len(sample) / seconds[p][-1]:.1f} texts/s (run {r + 1})")
    speed = {p: len(sample) / statistics.median(s) for p, s in seconds.items()}
    del teachers

    # The label sets of both precisions over the whole transfer set (cached; int8 apart from fp32).
    summaries = {}
    for p in PRECISIONS:
        summaries[p] = label_transfer_set(teacher, transfer, train, workdir / p / "transfer.spacy", cache,
                                          batch_size, calibration=calibration, precision=p)
    fingerprint = teacher_fingerprint(teacher)
    logprobs = {}
    for p in PRECISIONS:
        found = LabelCache(cache, cache_key(fingerprint, p), labels).get(all_texts)
        logprobs[p] = numpy.stack([found[t] for t in all_texts])
    agreement = label_agreement(logprobs["fp32"], logprobs["int8"])

    students = {}
    if student_epochs > 0:
        for p in PRECISIONS:
            students[p] = train_and_score(config, workdir / p / "transfer.spacy", dev, test, labels_json,
                                          workdir / p / "student", student_epochs, lang)
    figures = {
        "timed_texts": len(sample),
        "batch_size": batch_size,
        "repeats": repeats,
        "texts_per_s": speed,
        "seconds": seconds,
        "speedup_int8": speed["int8"] / speed["fp32"],
        "agreement": agreement,
        "students": students,
        "student_config": str(config),
        "student_epochs": student_epochs,
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "quantized_engine": torch.backends.quantized.engine,
                    "load_average_1min": os.getloadavg()[0], "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "command": " ".join(["python", "scripts/benchmark_int8.py", *map(str, sys.argv[1:])]),
    }
    table = [
        ["fp32", f"{speed['fp32']:.1f}", "1.00x", "", "",
         f"{students['fp32']['accuracy']:.3f}" if students else ""],
        ["int8", f"{speed['int8']:.1f}", f"{figures['speedup_int8']:.2f}x", f"{agreement['argmax_agreement']:.2%}",
         f"{agreement['mean_kl']:.2e}", f"{students['int8']['accuracy']:.3f}" if students else ""],
    ]
    table[0].insert(4, "")
    table[1].insert(4, f"{agreement['argmax_agreement_confident']:.2%} of {agreement['confident_texts']}")
    md = markdown_table(["teacher", "texts/s", "speed-up", "argmax agreement with fp32",
                         f"same, fp32 top probability ≥ {agreement['confident']}", "mean KL(fp32 ‖ int8)",
                         "student test accuracy"], table)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf8")
    output.with_suffix(".md").write_text(md + "\n", encoding="utf8")
    print(md)
    msg.good(
        f"int8 labels at {figures['speedup_int8']:.2f}x the fp32 speed, {agreement['argmax_agreement']:.2%} argmax "
        f"agreement over {agreement['texts']} transfer texts; figures in {output} and {output.with_suffix('.md')}"
    )


if __name__ == "__main__":
    typer.run(main)
