"""Benchmark labelling: throughput of `label_texts` against the teacher's own batched forward pass."""
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import spacy
import typer
from wasabi import msg

from distill_spacy.data import read_transfer_texts
from distill_spacy.label import LabelCache, label_texts, teacher_fingerprint


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    transfer: Path = typer.Argument(..., exists=True, dir_okay=False, help="Transfer texts (.jsonl)"),
    output: Path = typer.Option(Path("metrics/benchmarks/label.json"), "--output", "-o", help="Where to write the figures"),
    n_texts: int = typer.Option(2000, "--n-texts", "-n", help="Texts to label (a seeded random sample)"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass, for both runs"),
    seed: int = typer.Option(0, "--seed"),
):
    """Benchmark labelling: throughput of `label_texts` against the teacher's own batched forward pass."""
    texts = [row["text"] for row in read_transfer_texts(transfer)]
    texts = random.Random(seed).sample(texts, min(n_texts, len(texts)))
    nlp = spacy.load(teacher)
    labels = nlp.get_pipe("textcat").labels
    for _ in nlp.pipe(texts[:64], batch_size=batch_size):  # warm-up
        pass
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    forward_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        cache = LabelCache(Path(tmp) / "cache.sqlite", teacher_fingerprint(teacher), labels)
        start = time.perf_counter()
        label_texts(nlp, texts, cache, batch_size=batch_size, progress=False)
        label_s = time.perf_counter() - start
        start = time.perf_counter()
        label_texts(nlp, texts, cache, batch_size=batch_size, progress=False)
        cached_s = time.perf_counter() - start
        cache.close()
    figures = {
        "texts": len(texts),
        "batch_size": batch_size,
        "teacher_forward_texts_per_s": len(texts) / forward_s,
        "label_texts_per_s": len(texts) / label_s,
        "label_vs_forward": forward_s / label_s,
        "cached_rerun_seconds": cached_s,
        "machine": {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "python": platform.python_version()},
        "command": f"python scripts/benchmark_label.py {teacher} {transfer} -n {n_texts} -b {batch_size}",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf8")
    print(json.dumps(figures, indent=2))
    msg.good(
        f"Labelling ran at {figures['label_vs_forward']:.0%} of the teacher's batched forward throughput "
        f"({figures['label_texts_per_s']:.0f} vs {figures['teacher_forward_texts_per_s']:.0f} texts/s); "
        f"figures in {output}"
    )


if __name__ == "__main__":
    typer.run(main)
