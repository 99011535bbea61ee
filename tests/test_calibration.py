import json

import numpy
import pytest

from distill_spacy.calibration import Calibration, calibrate, fit_temperature, nll, softmax_at
from distill_spacy.errors import DataError


def sample_from_tempered(logits: numpy.ndarray, temperature: float, seed: int = 0) -> numpy.ndarray:
    """Gold labels drawn from softmax(logits / T): T is then the temperature that fits them."""
    rng = numpy.random.default_rng(seed)
    probs = softmax_at(logits, temperature)
    return numpy.array([rng.choice(len(p), p=p) for p in probs])


@pytest.mark.parametrize("true_t", [0.05, 0.5, 1.0, 3.0])
def test_fit_recovers_a_known_temperature(true_t):
    rng = numpy.random.default_rng(1)
    logits = rng.normal(0, 1, size=(20000, 5))
    gold = sample_from_tempered(logits, true_t)
    assert fit_temperature(logits, gold) == pytest.approx(true_t, rel=0.05)


def test_fit_is_the_nll_minimum():
    logits = numpy.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.5], [1.0, 0.0, 0.0]])
    gold = [0, 1, 0, 0]
    t = fit_temperature(logits, gold)
    for other in (t * 0.9, t * 1.1):
        assert nll(logits, gold, t) < nll(logits, gold, other)


def test_flat_but_right_teacher_is_sharpened():
    """A teacher whose top label is always right but whose probabilities are almost uniform
    (the many-intent failure) gets T << 1 and a low ECE after scaling."""
    rng = numpy.random.default_rng(0)
    n, k = 500, 64
    logits = rng.normal(0, 0.001, size=(n, k))
    gold = rng.integers(0, k, size=n)
    logits[numpy.arange(n), gold] += 0.01
    result = calibrate(numpy.log(softmax_at(logits, 1.0)), gold, fitted_on="test")
    assert result.temperature < 0.01
    assert result.accuracy == 1.0
    assert result.ece_before > 0.9
    assert result.ece_after < 0.05
    assert result.nll_after < result.nll_before


def test_softmax_at_is_invariant_to_a_row_shift():
    logits = numpy.array([[1.0, 2.0, 3.0]])
    assert softmax_at(logits, 0.5) == pytest.approx(softmax_at(logits + 7.0, 0.5))
    assert softmax_at(logits, 1.0).sum() == pytest.approx(1.0)


def test_calibration_roundtrip_and_bad_file(tmp_path):
    result = Calibration(0.2, "dev.spacy", 10, 2.0, 1.0, 0.5, 0.1, 0.8)
    result.to_disk(tmp_path / "calibration.json")
    assert Calibration.from_disk(tmp_path / "calibration.json") == result
    (tmp_path / "bad.json").write_text(json.dumps({"temperature": 1.0}), encoding="utf8")
    with pytest.raises(DataError, match="bad.json.*\n  Fix: rerun"):
        Calibration.from_disk(tmp_path / "bad.json")
