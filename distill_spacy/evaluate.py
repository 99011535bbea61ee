"""Score baseline, teacher and students side by side: quality, CPU speed and size, in one run.

`evaluate_models` measures every model on the same test texts and returns the report dict
(schema in `report.py`); `report.write_report` renders it. Quality is measured here; speed,
memory and size in `distill_spacy.cost`.
"""
import datetime
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import spacy
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from wasabi import msg

from . import errors
from .data import PathLike
from .calibration import Calibration, softmax_at, to_logprobs
# Speed, memory and size, also importable from here as before.
from .cost import (  # noqa: F401
    CpuMonitor,
    attach_wheels,
    count_params,
    find_wheel,
    folder_size,
    machine_info,
    measure_rss,
    measure_speed,
)

Z_95 = 1.959963984540054
ROLES = ("baseline", "teacher")


def gold_labels(docs: Iterable[Doc]) -> List[str]:
    """The gold label of each Doc: the category with the highest value in `doc.cats`."""
    return [max(doc.cats, key=doc.cats.get) for doc in docs]


def read_gold(path: PathLike) -> Tuple[List[str], List[str], List[str]]:
    """The texts, gold labels and label set of a gold DocBin (labels in the order of its cats).

    Raises ValueError when the file holds no Docs.
    """
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    if not docs:
        raise ValueError(errors.E_NO_DOCS.format(path=path))
    return [doc.text for doc in docs], gold_labels(docs), list(docs[0].cats)


def predict_probs(nlp: Language, texts: Sequence[str], labels: Sequence[str], batch_size: int = 256) -> numpy.ndarray:
    """The model's scores for each text, one row per text, columns in `labels` order.

    A label the model does not know scores 0, so that its rows still line up with the gold labels.
    """
    rows = [[doc.cats.get(label, 0.0) for label in labels] for doc in nlp.pipe(texts, batch_size=batch_size)]
    return numpy.asarray(rows, dtype="float64").reshape(len(rows), len(labels))


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Tuple[float, float]:
    """Wilson score interval of a proportion (95% for the default z).

    successes (int): Number of hits, e.g. correct predictions.
    n (int): Number of trials.
    RETURNS (Tuple[float, float]): Lower and upper bound; (0.0, 1.0) when n is 0.
    """
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def expected_calibration_error(probs: numpy.ndarray, gold: Sequence[int], n_bins: int = 15) -> float:
    """Expected calibration error of the top-label confidence (equal-width bins over (0, 1]).

    ECE = sum over bins of |bin| / n * |accuracy(bin) - mean confidence(bin)|.

    probs (numpy.ndarray): Scores, one row per example.
    gold (Sequence[int]): The gold column of each row.
    n_bins (int): Number of confidence bins.
    RETURNS (float): The ECE, between 0 and 1.
    """
    probs = numpy.asarray(probs, dtype="float64")
    if len(probs) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == numpy.asarray(gold)
    # Bin i holds confidences in (i/n_bins, (i+1)/n_bins]; a confidence of 0 joins the first bin.
    bins = numpy.clip(numpy.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def paired_bootstrap(
    correct_a: Sequence[bool], correct_b: Sequence[bool], n_resamples: int = 2000, seed: int = 0
) -> Dict:
    """Accuracy difference a - b on the same examples, with a 95% paired bootstrap interval.

    RETURNS (Dict): {"diff": float, "ci95": [lo, hi]}.
    """
    a = numpy.asarray(correct_a, dtype="float64")
    b = numpy.asarray(correct_b, dtype="float64")
    if a.shape != b.shape:
        raise ValueError(f"{len(a)} and {len(b)} examples: a paired comparison needs the same examples")
    if len(a) == 0:
        return {"diff": 0.0, "ci95": [0.0, 0.0]}
    rng = numpy.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n_resamples, len(a)))
    diffs = (a[idx] - b[idx]).mean(axis=1)
    lo, hi = numpy.percentile(diffs, [2.5, 97.5])
    return {"diff": float(a.mean() - b.mean()), "ci95": [float(lo), float(hi)]}


def gain_kept(accuracy: float, teacher_accuracy: float, baseline_accuracy: float) -> Optional[float]:
    """The share of the teacher's accuracy gain over the baseline that a student keeps.

    RETURNS (Optional[float]): (student - baseline) / (teacher - baseline); None when the teacher
        does not beat the baseline, so there is no gain to keep.
    """
    gain = teacher_accuracy - baseline_accuracy
    if gain <= 0:
        return None
    return (accuracy - baseline_accuracy) / gain


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> Dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of single-label predictions.

    gold (Sequence[str]): Gold labels.
    pred (Sequence[str]): Predicted labels, aligned with gold.
    labels (Sequence[str]): All labels, so that a class that is never predicted still counts.
    RETURNS (Dict): {"n", "accuracy", "accuracy_ci95", "macro_f1", "per_class": {label: {"p", "r", "f1",
        "support"}}, "confusion": rows gold, columns predicted, in `labels` order}.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    p, r, f, support = precision_recall_fscore_support(
        gold, pred, labels=list(labels), average=None, zero_division=0
    )
    n_correct = sum(g == q for g, q in zip(gold, pred))
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)) if gold else 0.0,
        "accuracy_ci95": list(wilson_interval(n_correct, len(gold))),
        "macro_f1": float(f.mean()),
        "per_class": {
            label: {"p": float(p[i]), "r": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, label in enumerate(labels)
        },
        "confusion": confusion_matrix(gold, pred, labels=list(labels)).tolist() if gold else [],
    }


def quality_metrics(
    gold: Sequence[str], probs: numpy.ndarray, labels: Sequence[str], reference: Optional[Sequence[str]] = None
) -> Dict:
    """`classification_metrics` of the argmax predictions, plus calibration and agreement.

    gold (Sequence[str]): Gold labels.
    probs (numpy.ndarray): Scores from `predict_probs`, columns in `labels` order.
    labels (Sequence[str]): The label set.
    reference (Optional[Sequence[str]]): Another model's predicted labels (the teacher's), for the
        share of examples on which both predict the same label.
    RETURNS (Dict): The metrics plus "ece" and "agreement_with_teacher" (None without reference).
    """
    labels = list(labels)
    pred = predict_from_probs(probs, labels)
    unknown = sorted(set(gold) - set(labels))
    if unknown:
        raise ValueError(errors.E_GOLD_NOT_IN_MODEL.format(unknown=unknown, labels=labels))
    metrics = classification_metrics(gold, pred, labels)
    metrics["ece"] = expected_calibration_error(probs, [labels.index(g) for g in gold])
    metrics["agreement_with_teacher"] = None
    if reference is not None:
        if len(reference) != len(pred):
            raise ValueError(f"{len(reference)} reference labels but {len(pred)} predictions")
        metrics["agreement_with_teacher"] = sum(a == b for a, b in zip(pred, reference)) / max(1, len(pred))
    return metrics


def predict_from_probs(probs: numpy.ndarray, labels: Sequence[str]) -> List[str]:
    """The argmax label of each row of scores."""
    return [labels[i] for i in numpy.asarray(probs).argmax(axis=1)] if len(probs) else []


def dev_score(model: PathLike) -> Optional[float]:
    """The dev `cats_score` that `spacy train` recorded in the pipeline's meta.json, if any."""
    try:
        meta = json.loads((Path(model) / "meta.json").read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None
    score = (meta.get("performance") or {}).get("cats_score")
    return float(score) if isinstance(score, (int, float)) else None


def role_of(name: str) -> str:
    """A model's role from its name: "baseline", "teacher", or else a student."""
    return name if name in ROLES else "student"


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def compare(report_models: Dict[str, Dict], correct: Dict[str, numpy.ndarray]) -> Dict[str, Dict]:
    """Student vs teacher (and baseline): speed-up, size reduction, gain kept, accuracy differences."""
    teacher = report_models.get("teacher")
    baseline = report_models.get("baseline")
    comparisons = {}
    for name, model in report_models.items():
        if model["role"] != "student":
            continue
        speed, size = model.get("speed") or {}, model["size"]
        t_speed = (teacher or {}).get("speed") or {}
        t_size = (teacher or {}).get("size") or {}
        entry = {
            "speedup_p50": _ratio(t_speed.get("latency_ms_p50"), speed.get("latency_ms_p50")),
            "speedup_pipe": _ratio(speed.get("pipe_docs_per_s"), t_speed.get("pipe_docs_per_s")),
            "size_reduction_folder": _ratio(t_size.get("folder_bytes"), size.get("folder_bytes")),
            "size_reduction_rss": _ratio(t_size.get("rss_added_bytes"), size.get("rss_added_bytes")),
            "gain_kept": None,
            "accuracy_diff_vs_teacher": None,
            "accuracy_diff_vs_baseline": None,
        }
        if teacher and baseline:
            entry["gain_kept"] = gain_kept(
                model["quality"]["accuracy"], teacher["quality"]["accuracy"], baseline["quality"]["accuracy"]
            )
        for other in ("teacher", "baseline"):
            if other in correct:
                entry[f"accuracy_diff_vs_{other}"] = paired_bootstrap(correct[name], correct[other])
        comparisons[name] = entry
    return comparisons


def evaluate_models(
    models: Dict[str, PathLike],
    test_path: PathLike,
    speed: bool = True,
    memory: bool = True,
    repeats: int = 3,
    n_single: int = 300,
    warmup: int = 20,
    batch_size: int = 64,
    command: str = "",
    calibration: Optional[Dict[str, PathLike]] = None,
) -> Dict:
    """Score several pipelines on the same gold test set in one run; return the report dict.

    models (Dict[str, PathLike]): Pipeline folders by name. "baseline" and "teacher" are those roles;
        every other name is a student and is compared with them.
    test_path (PathLike): Gold test Docs (.spacy).
    speed (bool): Time latency and throughput (CPU, warm, medians over `repeats`).
    memory (bool): Measure the memory loading adds, in a subprocess per model.
    command (str): How the run was started, for the report.
    calibration (Optional[Dict[str, PathLike]]): calibration.json files by model name (the
        teacher's): the model's ECE is also measured after re-tempering with that temperature.
    RETURNS (Dict): The measurements (schema in report.py); wheel sizes and "ablation" are left
        empty for `report.build_report` to fill in.
    """
    texts, gold, labels = read_gold(test_path)
    # The teacher first, so that the students' agreement with it is known when they are scored.
    order = sorted(models, key=lambda name: name != "teacher")
    results: Dict[str, Dict] = {}
    correct: Dict[str, numpy.ndarray] = {}
    teacher_pred = None
    for name in order:
        path = Path(models[name])
        msg.info(f"Evaluating {name} ({path})")
        nlp = spacy.load(path)
        probs = predict_probs(nlp, texts, labels)
        pred = predict_from_probs(probs, labels)
        quality = quality_metrics(gold, probs, labels, reference=teacher_pred if name != "teacher" else None)
        quality["temperature"] = quality["ece_calibrated"] = None
        if calibration and name in calibration:
            t = Calibration.from_disk(calibration[name]).temperature
            tempered = softmax_at(to_logprobs(probs), t)
            quality["temperature"] = t
            quality["ece_calibrated"] = expected_calibration_error(tempered, [labels.index(g) for g in gold])
        if name == "teacher":
            teacher_pred = pred
        correct[name] = numpy.asarray([g == p for g, p in zip(gold, pred)])
        params, vector_values = count_params(nlp)
        results[name] = {
            "path": str(path),
            "role": role_of(name),
            "quality": quality,
            "dev_score": dev_score(path),
            "speed": measure_speed(nlp, texts, n_single, warmup, repeats, batch_size) if speed else None,
            "size": {
                "folder_bytes": folder_size(path),
                "wheel_bytes": None,
                "wheel": None,
                "params": params,
                "vector_values": vector_values,
                "rss_added_bytes": measure_rss(path) if memory else None,
            },
        }
        del nlp
    results = {name: results[name] for name in models}
    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "test": str(test_path),
        "n": len(texts),
        "labels": labels,
        "machine": machine_info(),
        "timing": {
            "repeats": repeats if speed else 0,
            "warmup": warmup,
            "n_single": min(n_single, len(texts)),
            "n_pipe": len(texts),
            "batch_size": batch_size,
        },
        "models": results,
        "comparisons": compare(results, correct),
        "ablation": None,
    }


@dataclass
class TestSet:
    """The gold test set and the teacher's predictions on it, which agreement is measured against."""

    path: str
    texts: List[str]
    gold: List[str]
    labels: List[str]
    teacher_pred: Optional[List[str]] = None

    @classmethod
    def read(cls, path: PathLike) -> "TestSet":
        texts, gold, labels = read_gold(path)
        return cls(str(path), texts, gold, labels)

    def score(self, model: PathLike, batch_size: int = 256) -> Dict:
        """`quality_metrics` of a trained pipeline, with agreement against the teacher."""
        probs = predict_probs(spacy.load(model), self.texts, self.labels, batch_size=batch_size)
        return quality_metrics(self.gold, probs, self.labels, reference=self.teacher_pred)

    def score_teacher(self, model: PathLike, batch_size: int = 64) -> Dict:
        """Score the teacher and keep its predictions as the reference for agreement."""
        probs = predict_probs(spacy.load(model), self.texts, self.labels, batch_size=batch_size)
        self.teacher_pred = predict_from_probs(probs, self.labels)
        return quality_metrics(self.gold, probs, self.labels)
