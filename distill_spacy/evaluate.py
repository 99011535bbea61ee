"""Score trained text classifiers on a gold DocBin: accuracy, macro-F1 and per-class figures."""
import json
import statistics
import time
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Union

import spacy
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from spacy.tokens import Doc, DocBin

PathLike = Union[str, Path]


def gold_labels(docs: Iterable[Doc]) -> List[str]:
    """The gold label of each Doc: the category with the highest value in `doc.cats`."""
    return [max(doc.cats, key=doc.cats.get) for doc in docs]


def predict_labels(nlp: spacy.Language, texts: Sequence[str], batch_size: int = 256) -> List[str]:
    """The predicted label of each text: the category with the highest score."""
    return [max(doc.cats, key=doc.cats.get) for doc in nlp.pipe(texts, batch_size=batch_size)]


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> Dict:
    """Accuracy, macro-F1 and per-class precision/recall/F1 of single-label predictions.

    gold (Sequence[str]): Gold labels.
    pred (Sequence[str]): Predicted labels, aligned with gold.
    labels (Sequence[str]): All labels, so that a class that is never predicted still counts.
    RETURNS (Dict): {"n", "accuracy", "macro_f1", "per_class": {label: {"p", "r", "f1", "support"}}}.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    p, r, f, support = precision_recall_fscore_support(
        gold, pred, labels=list(labels), average=None, zero_division=0
    )
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)),
        "macro_f1": float(f.mean()),
        "per_class": {
            label: {"p": float(p[i]), "r": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, label in enumerate(labels)
        },
    }


def folder_size(path: PathLike) -> int:
    """Bytes of all files under a folder."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def measure_speed(nlp: spacy.Language, texts: Sequence[str], n_single: int = 300, warmup: int = 20) -> Dict:
    """Warm CPU speed: median and p95 latency of `nlp(text)` per message, and `nlp.pipe` throughput.

    nlp (Language): The pipeline.
    texts (Sequence[str]): Messages; the first `n_single` are timed one by one, all in the pipe run.
    RETURNS (Dict): {"latency_ms_p50", "latency_ms_p95", "pipe_docs_per_s", "n_single", "n_pipe"}.
    """
    for text in texts[:warmup]:
        nlp(text)
    single = texts[:n_single]
    latencies = []
    for text in single:
        start = time.perf_counter()
        nlp(text)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    pipe_seconds = time.perf_counter() - start
    return {
        "latency_ms_p50": statistics.median(latencies),
        "latency_ms_p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "pipe_docs_per_s": len(texts) / pipe_seconds,
        "n_single": len(single),
        "n_pipe": len(texts),
    }


def evaluate_model(model: PathLike, test_path: PathLike, speed: bool = True) -> Dict:
    """Load a trained pipeline and score it on the gold Docs of a `.spacy` file.

    model (PathLike): The pipeline folder.
    test_path (PathLike): Gold test Docs.
    speed (bool): Also measure CPU latency and throughput on the test texts.
    RETURNS (Dict): `classification_metrics`, plus "speed" and "size_bytes" (on disk).
    """
    nlp = spacy.load(model)
    docs = list(DocBin().from_disk(test_path).get_docs(nlp.vocab))
    texts = [doc.text for doc in docs]
    gold = gold_labels(docs)
    pred = predict_labels(nlp, texts)
    labels = list(docs[0].cats) if docs else []
    scores = classification_metrics(gold, pred, labels)
    scores.update({"model": str(model), "test": str(test_path), "size_bytes": folder_size(model)})
    if speed:
        scores["speed"] = measure_speed(nlp, texts)
    return scores


def evaluate_models(models: Dict[str, PathLike], test_path: PathLike, output_dir: PathLike) -> Dict[str, Dict]:
    """Score several models on the same test set; write `<output_dir>/<name>.json` for each."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, path in models.items():
        results[name] = evaluate_model(path, test_path)
        (output_dir / f"{name}.json").write_text(json.dumps(results[name], indent=2), encoding="utf8")
    return results
