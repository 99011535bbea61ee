"""Temperature scaling of a classifier's probabilities (Guo et al. 2017, "On Calibration of Modern
Neural Networks"): one scalar T, fitted on held-out data by negative log-likelihood, divides the
logits. It changes no prediction (the argmax stays), only how confident the probabilities are.

Log-probabilities are the logits up to a per-text constant that the softmax cancels, so they are
all that is needed: the label cache keeps them, and a new temperature needs no relabelling.
"""
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy
from scipy.optimize import minimize_scalar

from .data import write_atomic
from .errors import E_CALIBRATION_FILE, data_error

# 1/T is searched in [1e-3, 1e4]: T from 1e-4 (a teacher 10,000x too flat) to 1000.
MIN_INV_T, MAX_INV_T = 1e-3, 1e4


def to_logprobs(probs: numpy.ndarray) -> numpy.ndarray:
    """RETURNS (numpy.ndarray): log(probs), floored at 1e-30 so that the logs stay finite."""
    return numpy.log(numpy.maximum(probs, 1e-30))


def softmax_at(logprobs: numpy.ndarray, temperature: float) -> numpy.ndarray:
    """RETURNS (numpy.ndarray): softmax(logprobs / temperature), row by row, in float64."""
    z = numpy.asarray(logprobs, dtype="float64") / temperature
    z -= z.max(axis=1, keepdims=True)
    p = numpy.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def nll(logprobs: numpy.ndarray, gold: Sequence[int], temperature: float) -> float:
    """RETURNS (float): Mean negative log-likelihood of the gold labels at that temperature."""
    z = numpy.asarray(logprobs, dtype="float64") / temperature
    z_max = z.max(axis=1, keepdims=True)
    log_norm = numpy.log(numpy.exp(z - z_max).sum(axis=1)) + z_max[:, 0]
    return float((log_norm - z[numpy.arange(len(z)), numpy.asarray(gold)]).mean())


def fit_temperature(logprobs: numpy.ndarray, gold: Sequence[int]) -> float:
    """Fit T by minimising the NLL of the gold labels.

    The NLL is convex in 1/T (a log-sum-exp minus a linear term), hence unimodal in log(1/T): a
    bounded scalar search over log(1/T) finds the global minimum at the same relative precision for
    every T.

    logprobs (numpy.ndarray): Log-probabilities (or logits), shape (n_texts, n_labels).
    gold (Sequence[int]): The index of each text's gold label.
    RETURNS (float): The temperature T > 0.
    """
    logprobs = numpy.asarray(logprobs, dtype="float64")
    if len(logprobs) == 0:
        raise ValueError("fit_temperature needs at least one example")
    result = minimize_scalar(
        lambda log_inv_t: nll(logprobs, gold, float(numpy.exp(-log_inv_t))),
        bounds=(numpy.log(MIN_INV_T), numpy.log(MAX_INV_T)),
        method="bounded",
        options={"xatol": 1e-8},
    )
    return float(numpy.exp(-result.x))


@dataclass
class Calibration:
    """A teacher's temperature and what it did on the data it was fitted on."""

    temperature: float
    fitted_on: str
    n_examples: int
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float
    accuracy: float

    def to_disk(self, path: Union[str, Path]) -> None:
        write_atomic(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def from_disk(cls, path: Union[str, Path]) -> "Calibration":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as e:
            raise data_error(path, None, E_CALIBRATION_FILE, error=e) from None


def calibrate(logprobs: numpy.ndarray, gold: Sequence[int], fitted_on: str) -> Calibration:
    """Fit a temperature and measure NLL and expected calibration error before and after."""
    from .evaluate import expected_calibration_error

    logprobs = numpy.asarray(logprobs, dtype="float64")
    gold = numpy.asarray(gold)
    t = fit_temperature(logprobs, gold)
    before, after = softmax_at(logprobs, 1.0), softmax_at(logprobs, t)
    return Calibration(
        temperature=t,
        fitted_on=fitted_on,
        n_examples=len(gold),
        nll_before=nll(logprobs, gold, 1.0),
        nll_after=nll(logprobs, gold, t),
        ece_before=expected_calibration_error(before, gold),
        ece_after=expected_calibration_error(after, gold),
        accuracy=float((before.argmax(axis=1) == gold).mean()),
    )


def calibrate_teacher(
    teacher_dir: Union[str, Path], dev_path: Union[str, Path], output: Union[str, Path]
) -> Calibration:
    """Fit the teacher's temperature on the gold dev set and write it to `output` (JSON).

    teacher_dir (Union[str, Path]): The trained teacher pipeline (training/teacher/model-best).
    dev_path (Union[str, Path]): Gold dev DocBin (corpus/dev.spacy).
    output (Union[str, Path]): Where to write the calibration (training/teacher/calibration.json).
    RETURNS (Calibration): The temperature with NLL and ECE before and after, on dev.
    """
    import spacy

    from .evaluate import predict_probs, read_gold

    texts, gold, labels = read_gold(dev_path)
    nlp = spacy.load(teacher_dir)
    teacher_labels = list(nlp.get_pipe("textcat").labels)
    probs = predict_probs(nlp, texts, teacher_labels)
    logprobs = to_logprobs(probs)
    result = calibrate(logprobs, [teacher_labels.index(g) for g in gold], fitted_on=str(dev_path))
    result.to_disk(output)
    return result
