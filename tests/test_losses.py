"""The distillation losses: values by hand and against numpy, gradients by finite differences."""
from typing import List, Optional

import numpy
import pytest
from numpy.testing import assert_allclose

from distill_spacy.losses import distillation_loss

# Three texts with the teacher's probabilities and (where known) the gold label.
TRAIN_DATA_3 = [
    ("the sound is great", {"POS": 0.7, "NEU": 0.2, "NEG": 0.1}, "POS"),
    ("it broke after a week", {"POS": 0.05, "NEU": 0.15, "NEG": 0.8}, None),
    ("it is fine I guess", {"POS": 0.3, "NEU": 0.6, "NEG": 0.1}, "NEU"),
]

# q: the student's probabilities; p: the teacher's. By hand, e.g. for "kl" at T = 2:
#   p_T = (sqrt .9, sqrt .1) / (sqrt .9 + sqrt .1) = (.75, .25); q_T = (.604356, .395644)
#   loss = 4 * (.75 ln(.75 / .604356) + .25 ln(.25 / .395644)) = .188675
#   d/dq = T (q_T - p_T) / q = (2 (.604356 - .75) / .7, 2 (.395644 - .25) / .3)
Q2 = [[0.7, 0.3]]
P2 = [[0.9, 0.1]]


@pytest.mark.parametrize(
    "kind,temperature,alpha,expected_loss,expected_grad",
    [
        # .9 ln(.9/.7) + .1 ln(.1/.3); (q - p) / q
        ("kl", 1.0, 0.0, 0.116322, [-0.285714, 0.666667]),
        ("kl", 2.0, 0.0, 0.188675, [-0.416125, 0.970959]),
        # .5 (.2^2 + .2^2); q - p
        ("mse_probs", 1.0, 0.0, 0.04, [-0.2, 0.2]),
        # centred logs: s = ±.423649, t = ±1.098612, c = ∓.674963; .5 * 2 c^2; c / q
        ("mse_logprobs", 1.0, 0.0, 0.455576, [-0.964233, 2.249878]),
        # gold = class 0: .5 * .116322 + .5 * -ln .7; .5 * (-.285714, .666667) + .5 * (-1/.7, 0)
        ("kl", 1.0, 0.5, 0.236498, [-0.857143, 0.333333]),
    ],
)
def test_loss_two_classes_by_hand(kind, temperature, alpha, expected_loss, expected_grad):
    scores = numpy.asarray(Q2, dtype="f")
    teacher = numpy.asarray(P2, dtype="f")
    gold = numpy.asarray([[1.0, 0.0]], dtype="f")
    has_gold = numpy.asarray([[1.0]], dtype="f")
    loss, d_scores = distillation_loss(
        scores, teacher, gold, has_gold, kind=kind, temperature=temperature, alpha=alpha
    )
    assert loss == pytest.approx(expected_loss, abs=1e-5)
    assert_allclose(d_scores, [expected_grad], atol=1e-5)


def test_temperature_changes_kl_as_computed():
    scores = numpy.asarray(Q2, dtype="f")
    teacher = numpy.asarray(P2, dtype="f")
    loss_1, grad_1 = distillation_loss(scores, teacher, kind="kl", temperature=1.0)
    loss_2, grad_2 = distillation_loss(scores, teacher, kind="kl", temperature=2.0)
    assert loss_1 == pytest.approx(0.116322, abs=1e-5)
    assert loss_2 == pytest.approx(0.188675, abs=1e-5)
    assert not numpy.allclose(grad_1, grad_2)
    # At a match the loss is 0 at any temperature.
    at_match, _ = distillation_loss(teacher, teacher, kind="kl", temperature=5.0)
    assert at_match == pytest.approx(0, abs=1e-6)


def test_nan_temperature():
    # spaCy refuses NaN in a config (E961); called directly the loss refuses it too.
    scores = numpy.asarray(Q2, dtype="f")
    with pytest.raises(ValueError, match="temperature is nan"):
        distillation_loss(scores, scores, temperature=float("nan"))


def reference_loss(q, p, gold: List[Optional[int]], kind: str, T: float, alpha: float) -> float:
    """The loss written out row by row in float64, independently of `distillation_loss`."""
    total = 0.0
    for q_row, p_row, g in zip(q, p, gold):
        if kind == "kl":
            p_T = p_row ** (1 / T) / (p_row ** (1 / T)).sum()
            q_T = q_row ** (1 / T) / (q_row ** (1 / T)).sum()
            soft = T * T * numpy.sum(p_T * numpy.log(p_T / q_T))
        elif kind == "mse_probs":
            soft = 0.5 * numpy.sum((q_row - p_row) ** 2)
        else:
            s, t = numpy.log(q_row), numpy.log(p_row)
            soft = 0.5 * numpy.sum(((s - s.mean()) - (t - t.mean())) ** 2)
        total += soft if g is None else (1 - alpha) * soft - alpha * numpy.log(q_row[g])
    return total


def finite_difference(f, x: numpy.ndarray, h: float = 1e-6) -> numpy.ndarray:
    grad = numpy.zeros_like(x)
    for index in numpy.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (2 * h)
    return grad


LOSS_SETTINGS = [
    ("kl", 1.0, 0.0),
    ("kl", 3.0, 0.0),
    ("kl", 2.0, 0.3),
    ("mse_probs", 1.0, 0.0),
    ("mse_probs", 1.0, 0.3),
    ("mse_logprobs", 1.0, 0.0),
    ("mse_logprobs", 1.0, 0.3),
]


@pytest.mark.parametrize("kind,temperature,alpha", LOSS_SETTINGS)
def test_loss_three_classes_against_numpy(kind, temperature, alpha):
    q = numpy.asarray([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.25, 0.6, 0.15]])
    p = numpy.asarray([[c[k] for k in ("POS", "NEU", "NEG")] for _, c, _ in TRAIN_DATA_3])
    gold_index = [0, None, 1]
    gold = numpy.zeros_like(q)
    gold[0, 0] = gold[2, 1] = 1.0
    has_gold = numpy.asarray([[1.0], [0.0], [1.0]])
    loss, d_scores = distillation_loss(
        q, p, gold, has_gold, kind=kind, temperature=temperature, alpha=alpha
    )
    expected = reference_loss(q, p, gold_index, kind, temperature, alpha)
    assert loss == pytest.approx(expected, rel=1e-9)
    settings = (gold_index, kind, temperature, alpha)
    numeric = finite_difference(lambda x: reference_loss(x, p, *settings), q)
    assert_allclose(d_scores, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kind,temperature,alpha", LOSS_SETTINGS)
def test_loss_gradient_finite_differences(kind, temperature, alpha):
    rng = numpy.random.default_rng(0)
    # Concentrated away from 0, where a fixed finite-difference step would be too coarse.
    q = rng.dirichlet(numpy.full(4, 4.0), size=5)
    p = rng.dirichlet(numpy.ones(4), size=5)
    gold = numpy.eye(4)[rng.integers(0, 4, size=5)]
    has_gold = numpy.asarray([[1.0], [0.0], [1.0], [0.0], [1.0]])
    settings = dict(kind=kind, temperature=temperature, alpha=alpha)
    loss, d_scores = distillation_loss(q, p, gold, has_gold, **settings)
    numeric = finite_difference(lambda x: distillation_loss(x, p, gold, has_gold, **settings)[0], q)
    assert_allclose(d_scores, numeric, rtol=1e-5, atol=1e-7)


def test_alpha_mixes_gold_only_where_present():
    q = numpy.asarray([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    p = numpy.asarray([[0.7, 0.2, 0.1], [0.05, 0.15, 0.8]])
    gold = numpy.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    has_gold = numpy.asarray([[1.0], [0.0]])
    soft = [distillation_loss(q[i : i + 1], p[i : i + 1])[0] for i in range(2)]
    for alpha in (0.0, 0.4, 1.0):
        loss, _ = distillation_loss(q, p, gold, has_gold, alpha=alpha)
        # Row 0 mixes in -ln q_gold = -ln 0.3; row 1 has no gold label and keeps its soft loss.
        assert loss == pytest.approx((1 - alpha) * soft[0] + alpha * -numpy.log(0.3) + soft[1])
