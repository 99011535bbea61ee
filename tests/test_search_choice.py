import numpy
import pytest
from sklearn.metrics import f1_score

from distill_spacy.errors import UserError
from distill_spacy.search_choice import (
    best_rival, choose, gain_lower_bounds, latency_budget, pareto_front, resampled_scores,
)


def record(number, score, latency, size, state="COMPLETE", default=False):
    return {"number": number, "state": state, "dev_score": score, "latency_ms_p50": latency,
            "folder_mb": size, "default": default}


RECORDS = [
    record(0, 0.80, 0.10, 2.4, default=True), record(1, 0.85, 0.15, 2.4), record(2, 0.79, 0.12, 2.4),
    record(3, 0.90, 1.00, 40.0), record(4, 0.85, 0.15, 1.2), record(5, 0.0, 0.0, 0.0, state="PRUNED"),
]


def test_front_and_choice_by_dev_score():
    assert pareto_front(RECORDS) == [0, 4, 3]  # 1 and 2 are dominated; pruned trials have no values
    assert latency_budget(RECORDS, 0) == pytest.approx(0.2)
    assert choose(RECORDS, 0.2)["number"] == 4  # as accurate as 1, smaller
    assert choose(RECORDS, 5.0)["number"] == 3
    assert choose(RECORDS, 0.1)["number"] == 0
    with pytest.raises(UserError, match="(?s)0.050 ms.*fastest takes 0.100 ms"):
        choose(RECORDS, 0.05)
    with pytest.raises(UserError, match="no finished default"):
        latency_budget([record(1, 0.8, 0.1, 1.0)], 0)


def test_a_trial_replaces_the_default_only_beyond_dev_noise():
    noise = {1: -0.01, 2: -0.05, 3: 0.02, 4: -0.01}  # 3 is reliably better but over the budget
    assert choose(RECORDS, 0.2, noise)["number"] == 0  # 1 and 4 score higher on dev, within noise
    reliable = {1: 0.001, 2: -0.05, 3: 0.02, 4: -0.01}
    assert choose(RECORDS, 0.2, reliable)["number"] == 1
    assert choose(RECORDS, 5.0, reliable)["number"] == 3
    # A budget below the default's latency leaves no default to compare with: best dev within it.
    slow_default = [record(0, 0.80, 0.30, 2.4, default=True)] + RECORDS[1:]
    assert choose(slow_default, 0.2, noise)["number"] == 4


def test_resampled_scores_on_the_dev_set_are_evaluate_s_scores():
    rng = numpy.random.default_rng(1)
    gold = rng.integers(0, 5, 60)
    preds = numpy.stack([numpy.where(rng.random(60) < 0.7, gold, rng.integers(0, 4, 60)) for _ in range(3)])
    ones = numpy.ones((1, 60))
    accuracy = resampled_scores(gold, preds, 5, "accuracy", ones)[0]
    assert accuracy == pytest.approx([(p == gold).mean() for p in preds])
    macro = resampled_scores(gold, preds, 5, "macro_f1", ones)[0]  # label 4 is never predicted
    assert macro == pytest.approx([f1_score(gold, p, labels=range(5), average="macro", zero_division=0) for p in preds])
    # Weights are repeats: drawing text i twice is the same as listing it twice.
    weights = rng.integers(0, 3, (1, 60))
    repeated = numpy.repeat(numpy.arange(60), weights[0])
    expected = f1_score(gold[repeated], preds[0][repeated], labels=range(5), average="macro", zero_division=0)
    assert resampled_scores(gold, preds[:1], 5, "macro_f1", weights)[0, 0] == pytest.approx(expected)


def noisy(gold, accuracy, rng, n_labels):
    wrong = (gold + rng.integers(1, n_labels, len(gold))) % n_labels
    return numpy.where(rng.random(len(gold)) < accuracy, gold, wrong)


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_gain_bounds_tell_a_real_gain_from_noise(metric):
    rng = numpy.random.default_rng(0)
    gold = rng.integers(0, 4, 1000)
    preds = {0: noisy(gold, 0.7, rng, 4), 1: noisy(gold, 0.85, rng, 4)}
    # 20 trials as good as the default: some beat it on these texts by chance, none beyond noise.
    preds.update({n: noisy(gold, 0.7, rng, 4) for n in range(2, 22)})
    preds[22] = preds[0].copy()  # predicts as the default does
    bounds = gain_lower_bounds(gold, preds, 0, 4, metric, resamples=500)
    assert set(bounds) == set(range(1, 23))
    assert bounds[1] > 0.05
    observed = dict(zip(preds, resampled_scores(gold, numpy.stack(list(preds.values())), 4, metric,
                                                numpy.ones((1, 1000)))[0]))
    lucky = [n for n in range(2, 22) if observed[n] > observed[0]]
    assert lucky and all(bounds[n] <= 0 for n in range(2, 22))
    assert bounds[22] == 0
    # Many trials at once widen each one's interval: a lone comparison is less strict.
    alone = gain_lower_bounds(gold, {0: preds[0], 5: preds[5]}, 0, 4, metric, resamples=500)
    assert alone[5] > bounds[5]
    # Confidence 0: the observed gains, no margin.
    raw = gain_lower_bounds(gold, preds, 0, 4, metric, confidence=0)
    assert raw == pytest.approx({n: observed[n] - observed[0] for n in range(1, 23)})
    assert all(raw[n] > bounds[n] for n in range(1, 22))
    assert gain_lower_bounds(gold, {0: preds[0]}, 0, 4, metric) == {}


def test_best_rival_is_the_best_other_trial_on_dev_within_the_budget():
    trials = [{**record(0, 0.75, 0.1, 5.0, default=True)},
              {**record(1, 0.78, 0.1, 5.0), "dev_gain_lower": -0.02}, {**record(2, 0.80, 0.5, 5.0)},
              {**record(3, 0.9, 0.1, 5.0, state="PRUNED")}]
    rival = best_rival(trials, 0.2)
    assert rival == {"trial": 1, "dev_gain": pytest.approx(0.03), "dev_gain_lower": -0.02}
    assert best_rival(trials[:1], 0.2) is None
