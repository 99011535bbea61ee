"""The distillation losses of the student: soft cross-entropy (KL) with temperature, MSE on
probabilities and on centred log-probabilities, each mixable with the gold label (`alpha`).
Registered as "distill_spacy.DistillationLoss.v1"; `distill_spacy.student` uses them."""
from typing import Callable, Optional, Tuple

import numpy
import spacy
from thinc.api import get_array_module
from thinc.types import Floats2d

from . import errors

LOSS_NAME = "distill_spacy.DistillationLoss.v1"
LOSS_KINDS = ("kl", "mse_probs", "mse_logprobs")
# The student's probabilities are floored before log and division: 1e-30 keeps log q and 1/q
# finite in float32, and is only reached when a logit trails the top one by more than 69.
STUDENT_FLOOR = 1e-30
# "mse_logprobs" needs the log of the teacher's probabilities: a zero (a one-hot gold-only
# example) becomes the target log(1e-8) = -18.4 rather than minus infinity.
TEACHER_FLOOR = 1e-8

# (scores, teacher, gold, has_gold) -> (loss, d_scores); see `distillation_loss`.
LossFn = Callable[[Floats2d, Floats2d, Floats2d, Floats2d], Tuple[float, Floats2d]]


def validate_loss_settings(kind: str, temperature: float, alpha: float) -> None:
    """Raise ValueError naming the bad setting and the fix."""
    if kind not in LOSS_KINDS:
        raise ValueError(errors.E_LOSS_KIND.format(kind=kind, kinds=", ".join(LOSS_KINDS)))
    if not (numpy.isfinite(temperature) and temperature > 0):
        raise ValueError(errors.E_LOSS_TEMPERATURE.format(value=temperature))
    if temperature != 1.0 and kind != "kl":
        raise ValueError(errors.E_LOSS_TEMPERATURE_KIND.format(value=temperature, kind=kind))
    if not (0.0 <= alpha <= 1.0):
        raise ValueError(errors.E_LOSS_ALPHA.format(value=alpha))


def _log_softmax(x: Floats2d) -> Floats2d:
    xp = get_array_module(x)
    x = x - x.max(axis=1, keepdims=True)
    return x - xp.log(xp.exp(x).sum(axis=1, keepdims=True))


def distillation_loss(
    scores: Floats2d,
    teacher: Floats2d,
    gold: Optional[Floats2d] = None,
    has_gold: Optional[Floats2d] = None,
    *,
    kind: str = "kl",
    temperature: float = 1.0,
    alpha: float = 0.0,
) -> Tuple[float, Floats2d]:
    """The distillation loss of a batch and its gradient w.r.t. the student's probabilities.

    With q the student's probabilities (`scores`, softmax outputs) floored at STUDENT_FLOOR,
    s = log q, and p the teacher's probabilities, the soft term of one example is:
    - "kl": T^2 * KL(p_T || q_T), with p_T = p^(1/T) renormalised and q_T = softmax(s / T).
      The student's logits are unknown, but s equals them up to a per-example constant that
      the softmax cancels, so q_T is the student's distribution at temperature T. The T^2
      factor (Hinton et al. 2015) keeps the gradient w.r.t. the logits, T * (q_T - p_T), on
      the scale of the hard term's as T changes.
    - "mse_probs": 0.5 * sum_c (q_c - p_c)^2. Its gradient, q - p, is what spaCy's stock
      textcat backpropagates for one-hot targets.
    - "mse_logprobs": 0.5 * sum_c (s_c - mean(s) - t_c + mean(t))^2, with t = log p (p floored
      at TEACHER_FLOOR): log-probabilities centred per example, i.e. the squared error between
      the logits of student and teacher without the per-example shift that no probability
      reveals (Tang et al. 2019 use MSE on logits).
    The temperature applies to "kl" only. For examples with a gold label (`has_gold` = 1) the
    loss is (1 - alpha) * soft + alpha * hard, with hard = -log q_gold (cross-entropy at T = 1);
    other examples get the soft term alone. The batch loss is the sum over examples, as the
    gradient spaCy's textcat backpropagates is, so learning rates carry over.

    scores (Floats2d): The student's probabilities, shape (n_examples, n_labels).
    teacher (Floats2d): The teacher's probabilities, rows summing to 1.
    gold (Optional[Floats2d]): One-hot gold labels (rows of zeros where there is none).
    has_gold (Optional[Floats2d]): Shape (n_examples, 1): 1.0 where the example has a gold label.
    kind (str): "kl", "mse_probs" or "mse_logprobs".
    temperature (float): T > 0; 1.0 leaves the probabilities as they are.
    alpha (float): The weight of the gold label, in [0, 1].
    RETURNS (Tuple[float, Floats2d]): The loss and d_loss/d_scores.
    """
    validate_loss_settings(kind, temperature, alpha)
    xp = get_array_module(scores)
    q = xp.maximum(scores, STUDENT_FLOOR)
    s = xp.log(q)
    if kind == "kl":
        T = temperature
        # p^(1/T) keeps the zeros of a one-hot target at zero, where flooring would not.
        p_T = teacher ** (1.0 / T)
        p_T = p_T / p_T.sum(axis=1, keepdims=True)
        log_q_T = _log_softmax(s / T)
        soft = T * T * (p_T * (xp.log(xp.maximum(p_T, STUDENT_FLOOR)) - log_q_T)).sum(axis=1)
        # d/ds = T * (q_T - p_T), and ds/dq = 1/q.
        d_soft = T * (xp.exp(log_q_T) - p_T) / q
    elif kind == "mse_probs":
        diff = scores - teacher
        soft = 0.5 * (diff**2).sum(axis=1)
        d_soft = diff
    else:  # mse_logprobs
        t = xp.log(xp.maximum(teacher, TEACHER_FLOOR))
        c = (s - s.mean(axis=1, keepdims=True)) - (t - t.mean(axis=1, keepdims=True))
        soft = 0.5 * (c**2).sum(axis=1)
        # d/ds_j = c_j - mean(c), and mean(c) = 0.
        d_soft = c / q
    if gold is None or has_gold is None or alpha == 0.0:
        return float(soft.sum()), d_soft
    hard = -(gold * s).sum(axis=1)
    d_hard = -gold / q
    w_hard = alpha * has_gold
    w_soft = 1.0 - w_hard
    loss = (w_soft[:, 0] * soft + w_hard[:, 0] * hard).sum()
    return float(loss), w_soft * d_soft + w_hard * d_hard


@spacy.registry.misc(LOSS_NAME)
def configure_distillation_loss(
    kind: str = "kl", temperature: float = 1.0, alpha: float = 0.0
) -> LossFn:
    """Registered as "distill_spacy.DistillationLoss.v1": `distillation_loss` with its settings.

    kind (str): "kl" (soft cross-entropy), "mse_probs" or "mse_logprobs".
    temperature (float): T > 0 for "kl"; must be 1.0 for the others.
    alpha (float): The weight of the gold label for texts that have one, in [0, 1].
    RETURNS (LossFn): (scores, teacher, gold, has_gold) -> (loss, d_scores).
    """
    validate_loss_settings(kind, temperature, alpha)

    def loss(
        scores: Floats2d, teacher: Floats2d, gold: Floats2d, has_gold: Floats2d
    ) -> Tuple[float, Floats2d]:
        return distillation_loss(
            scores, teacher, gold, has_gold, kind=kind, temperature=temperature, alpha=alpha
        )

    return loss
