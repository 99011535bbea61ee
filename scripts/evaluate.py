"""Score trained pipelines on the gold test set and write metrics/<name>.json."""
from pathlib import Path
from typing import List

import spacy
import typer
from wasabi import msg

from distill_spacy.evaluate import evaluate_models


def main(
    test: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold test data (.spacy)"),
    output_dir: Path = typer.Argument(Path("metrics"), help="Folder for <name>.json"),
    model: List[str] = typer.Option(..., "--model", "-m", help="name=path of a trained pipeline (repeatable)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
):
    """Score trained pipelines on the gold test set and write metrics/<name>.json."""
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    models = {}
    for spec in model:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_dir():
            msg.fail(f"--model {spec!r}: expected name=path to a trained pipeline folder", exits=1)
        models[name] = Path(path)
    results = evaluate_models(models, test, output_dir)
    rows = [
        (name, r["n"], f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}",
         f"{r['speed']['latency_ms_p50']:.2f}", f"{r['speed']['pipe_docs_per_s']:.0f}",
         f"{r['size_bytes'] / 1e6:.1f}")
        for name, r in results.items()
    ]
    header = ("model", "n", "accuracy", "macro-F1", "ms/msg (p50)", "docs/s (pipe)", "MB on disk")
    msg.table(rows, header=header, divider=True)
    msg.good(f"Scored {len(results)} models on {test}; metrics in {output_dir}")


if __name__ == "__main__":
    typer.run(main)
