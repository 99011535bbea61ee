"""The search's front and its choice: which trial replaces the default student, if any.

A study of 30 trials measured on a small dev set overfits it: the trial with the best dev score is
partly the one whose errors happened to miss the dev texts (the winner's curse). On banking77
(400 dev texts, 77 intents) the best of 30 trials beat the default by 2.5 points on dev and lost
0.9 on test. So a trial replaces the default student only when it beats it on dev by more than dev
noise explains: the lower bound of a simultaneous paired bootstrap interval (all trials within the
budget at once, so that trying many does not make one of them look good by chance) of its dev score
minus the default's must be above zero. Among those trials the most accurate on dev is chosen;
when none is, the default stays. `confidence` 0 chooses the best dev score, with no margin.
"""
import math
from typing import Any, Dict, List, Optional, Sequence

import numpy

from . import errors
from .search_space import search_error

OBJECTIVES = ("dev_score", "latency_ms_p50", "folder_mb")
DIRECTIONS = ("maximize", "minimize", "minimize")
CONFIDENCE = 0.95
RESAMPLES = 2000
CHUNK = 250


def dominates(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """Whether trial a is at least as good as b on every objective and better on one."""
    signs = [1 if d == "maximize" else -1 for d in DIRECTIONS]
    pairs = [(s * a[o], s * b[o]) for s, o in zip(signs, OBJECTIVES)]
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


def pareto_front(records: Sequence[Dict[str, Any]]) -> List[int]:
    """Numbers of the complete trials that no other complete trial dominates, fastest first."""
    done = [r for r in records if r["state"] == "COMPLETE"]
    front = [r for r in done if not any(dominates(o, r) for o in done if o is not r)]
    return [r["number"] for r in sorted(front, key=lambda r: (r["latency_ms_p50"], -r["dev_score"]))]


def latency_budget(records: Sequence[Dict[str, Any]], budget_ms: float) -> float:
    """The budget in ms: as given, or (budget_ms <= 0) twice the default student's p50 latency."""
    if budget_ms > 0:
        return budget_ms
    default = next((r for r in records if r["default"] and r["state"] == "COMPLETE"), None)
    if default is None:
        raise search_error(errors.E_SEARCH_NO_DEFAULT)
    return 2 * default["latency_ms_p50"]


def within_budget(records: Sequence[Dict[str, Any]], budget_ms: float) -> List[Dict[str, Any]]:
    """The complete trials whose p50 latency is within the budget: the candidates of the choice."""
    return [r for r in records if r["state"] == "COMPLETE" and r["latency_ms_p50"] <= budget_ms]


def best_rival(records: Sequence[Dict[str, Any]], budget_ms: float) -> Optional[Dict[str, Any]]:
    """The trial other than the default with the best dev score within the budget: its number, its dev
    gain over the default and the lower bound of that gain (None where not computed), or None."""
    default = next((r for r in records if r["default"] and r["state"] == "COMPLETE"), None)
    others = [r for r in within_budget(records, budget_ms) if not r["default"]]
    if default is None or not others:
        return None
    best = max(others, key=lambda r: r["dev_score"])
    return {"trial": best["number"], "dev_gain": best["dev_score"] - default["dev_score"],
            "dev_gain_lower": best.get("dev_gain_lower")}


def resampled_scores(gold: Sequence[int], preds: numpy.ndarray, n_labels: int, metric: str,
                     weights: numpy.ndarray) -> numpy.ndarray:
    """Each model's score on each resample of the texts.

    gold (Sequence[int]): Gold label index of each text (n).
    preds (numpy.ndarray): Predicted label indices, one row per model (k, n).
    n_labels (int): Number of labels (macro-F1 averages over all of them, as `evaluate` does).
    metric (str): "accuracy" or "macro_f1".
    weights (numpy.ndarray): How often each text is drawn in each resample (b, n); a row of ones is
        the dev set itself.
    RETURNS (numpy.ndarray): Scores (b, k).
    """
    gold = numpy.asarray(gold)
    preds = numpy.atleast_2d(numpy.asarray(preds))
    weights = numpy.asarray(weights, dtype="float64")
    correct = (preds == gold[None, :]).astype("float64")  # (k, n)
    if metric == "accuracy":
        return weights @ correct.T / weights.sum(axis=1, keepdims=True)
    one_hot = numpy.eye(n_labels)
    gold_counts = weights @ one_hot[gold]  # (b, L)
    scores = numpy.empty((weights.shape[0], preds.shape[0]))
    for k, pred in enumerate(preds):
        predicted = weights @ one_hot[pred]  # (b, L)
        hits = weights @ (one_hot[pred] * correct[k][:, None])
        denominator = predicted + gold_counts
        f1 = numpy.divide(2 * hits, denominator, out=numpy.zeros_like(hits), where=denominator > 0)
        scores[:, k] = f1.mean(axis=1)
    return scores


def gain_lower_bounds(gold: Sequence[int], preds: Dict[int, Sequence[int]], reference: int, n_labels: int,
                      metric: str, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                      seed: int = 0) -> Dict[int, float]:
    """Simultaneous lower confidence bounds of each model's score minus the reference's, on the
    same texts (paired), from a studentized max-type bootstrap: with probability `confidence`
    every model's true gain is above its bound at once, however many models there are.

    preds (Dict[int, Sequence[int]]): Predictions of each trial, by trial number; must hold `reference`.
    RETURNS (Dict[int, float]): The bound of every trial but the reference.
    """
    numbers = [n for n in preds if n != reference]
    if not numbers:
        return {}
    matrix = numpy.asarray([preds[reference]] + [preds[n] for n in numbers])
    observed = resampled_scores(gold, matrix, n_labels, metric, numpy.ones((1, len(gold))))[0]
    gains = observed[1:] - observed[0]
    if confidence <= 0:
        return dict(zip(numbers, gains.tolist()))
    rng = numpy.random.default_rng(seed)
    n = len(gold)
    scores = numpy.concatenate([  # resampled in chunks: the weights of all resamples at once may not fit
        resampled_scores(gold, matrix, n_labels, metric, rng.multinomial(n, numpy.full(n, 1 / n), size=size))
        for size in [CHUNK] * (resamples // CHUNK) + ([resamples % CHUNK] if resamples % CHUNK else [])
    ])
    spread = scores[:, 1:] - scores[:, :1] - gains  # (b, k): resampled gain minus observed gain
    sd = spread.std(axis=0)
    varies = sd > 0  # a trial that predicts as the default does has gain 0 and no spread
    if not varies.any():
        return dict(zip(numbers, gains.tolist()))
    critical = numpy.quantile((spread[:, varies] / sd[varies]).max(axis=1), confidence)
    bounds = gains - critical * sd  # sd 0 (no spread): the observed gain
    return dict(zip(numbers, bounds.tolist()))


def choose(records: Sequence[Dict[str, Any]], budget_ms: float,
           bounds: Optional[Dict[int, float]] = None) -> Dict[str, Any]:
    """The chosen trial: within the latency budget, the default student unless trials beat it by
    more than dev noise (`bounds`: their gain's lower bound is above 0), then the most accurate of
    those on dev (then the fastest, then the smallest). Without bounds, or when the default is not
    within the budget, the most accurate on dev within it: a trial on the front.
    Raises UserError when no trial is within the budget."""
    within = within_budget(records, budget_ms)
    if not within:
        done = [r["latency_ms_p50"] for r in records if r["state"] == "COMPLETE"]
        if not done:
            raise search_error(errors.E_SEARCH_NO_TRIALS)
        raise search_error(errors.E_SEARCH_BUDGET, budget=budget_ms, fastest=min(done),
                           enough=math.ceil(min(done) * 100) / 100)
    if bounds is not None and any(r["default"] for r in within):
        within = [r for r in within if r["default"] or bounds.get(r["number"], 0.0) > 0]
    return max(within, key=lambda r: (r["dev_score"], -r["latency_ms_p50"], -r["folder_mb"]))
