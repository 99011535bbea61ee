"""The student: a single-label textcat that learns from a teacher's class probabilities.

spaCy's stock `textcat` accepts only 0/1 values in `doc.cats` (error E851). The `distill_textcat`
factory builds a `DistillTextCategorizer`: the stock `TextCategorizer` with two overrides, the
validation of `doc.cats` (probabilities that sum to 1) and the loss (`DistillationLoss.v1`).
Its weights are those of a stock textcat, so `convert_to_stock` turns a trained student into a
pipeline that loads with spaCy alone.

Where the labels travel (reference docs, e.g. in `corpus/transfer.spacy`):
- `doc.cats`: the teacher's class probabilities, one float per label, summing to 1.
- `doc.user_data["distill_spacy.gold"]` (`GOLD_KEY`): the gold label (a label name) for the
  original training texts; absent for augmented or unlabelled texts. It survives `DocBin`
  serialisation when the DocBin is created with `store_user_data=True`.
"""
import numbers
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy
import spacy
from catalogue import RegistryError
from spacy import util
from spacy.language import Language
from spacy.pipeline.textcat import DEFAULT_SINGLE_TEXTCAT_MODEL, TextCategorizer, textcat_score
from spacy.tokens import Doc
from spacy.training import Example, validate_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from . import errors
# The losses, also importable from here as before.
from .losses import (  # noqa: F401
    LOSS_KINDS,
    LOSS_NAME,
    STUDENT_FLOOR,
    TEACHER_FLOOR,
    LossFn,
    _log_softmax,
    configure_distillation_loss,
    distillation_loss,
    validate_loss_settings,
)

FACTORY = "distill_textcat"
GOLD_KEY = "distill_spacy.gold"
# Teacher probabilities are often written rounded (JSONL, 4 decimals); with many labels the
# rounding alone moves the sum by up to ~0.005. Rows are renormalised after the check.
SUM_TOLERANCE = 0.01


# The bag-of-words hash table holds length x n_labels weights. Its length is a power of two (spaCy
# rounds it up), at most spaCy's default; with many labels it shrinks so that the table stays
# within WEIGHTS_BUDGET floats (8 MB on disk): 2-7 labels keep 2^18 rows, 77 labels get 2^14.
MAX_BOW_LENGTH = 2**18
WEIGHTS_BUDGET = 2**21


def bow_length(n_labels: int, budget: int = WEIGHTS_BUDGET, max_length: int = MAX_BOW_LENGTH) -> int:
    """The hash-table length of a bag-of-words student for n_labels labels.

    n_labels (int): The number of labels.
    budget (int): The most weights (length x n_labels) the table may hold.
    max_length (int): The length used when the budget allows it.
    RETURNS (int): The largest power of two <= max_length with length * n_labels <= budget
        (at least 1024).
    """
    if n_labels < 1:
        raise ValueError(f"n_labels must be at least 1, not {n_labels}")
    length = max_length
    while length > 1024 and length * n_labels > budget:
        length //= 2
    return length


def length_overrides(config: Config, n_labels: int, budget: int = WEIGHTS_BUDGET) -> Dict[str, int]:
    """Config overrides that size every bag-of-words hash table of the textcat for n_labels.

    config (Config): The student's config (not interpolated).
    n_labels (int): The number of labels.
    budget (int): See `bow_length`.
    RETURNS (Dict[str, int]): {"components.textcat.model.length": ...} and the like, for each
        `length` setting of a spaCy bag-of-words architecture in [components.*.model].
    """
    found = {}
    for name, component in config.get("components", {}).items():
        for path, value in util.walk_dict(component.get("model", {})):
            if path[-1] == "@architectures" and value.startswith("spacy.TextCatBOW"):
                section = ".".join(["components", name, "model", *path[:-1]])
                found[f"{section}.length"] = bow_length(n_labels, budget)
    return found


def set_gold_label(doc: Doc, label: str) -> None:
    """Record the gold label of an original training text on its reference doc.

    doc (Doc): The reference doc, whose `cats` hold the teacher's probabilities.
    label (str): The gold label name.
    """
    doc.user_data[GOLD_KEY] = label


def get_gold_label(doc: Doc) -> Optional[str]:
    """RETURNS (Optional[str]): The gold label stored by `set_gold_label`, or None."""
    return doc.user_data.get(GOLD_KEY)


def _output_layer_takes_logit_gradient(model: Model) -> bool:
    """Whether the model's final layer wants the gradient w.r.t. its logits.

    Both of spaCy's exclusive output layers output probabilities, but they backpropagate
    differently: `softmax_activation` (the bag-of-words textcat) multiplies by the softmax's
    Jacobian, so it wants d_loss/d_probabilities; thinc's `Softmax` layer (CNN, ensemble,
    attention textcats) passes its input gradient on unchanged, the softmax + cross-entropy
    shortcut, so it wants d_loss/d_logits.
    """
    layer = model
    while layer.layers:  # chain, with_cpu and resizable keep their output layer last
        layer = layer.layers[-1]
    if layer.name == "softmax":
        return True
    if layer.name == "softmax_activation":
        return False
    raise ValueError(errors.E_STUDENT_NOT_SOFTMAX.format(layer=layer.name, model=model.name))


class DistillTextCategorizer(TextCategorizer):
    """A single-label textcat trained on soft labels: a teacher's probabilities in `doc.cats`.

    It differs from spaCy's `TextCategorizer` only in what `doc.cats` of the reference docs may
    hold (probabilities summing to 1, not only 0/1) and in the loss. A gold label for the
    original training texts travels in `doc.user_data[GOLD_KEY]` (see `set_gold_label`).
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model[List[Doc], Floats2d],
        name: str = FACTORY,
        *,
        threshold: float,
        scorer: Optional[Callable] = textcat_score,
        loss: Optional[LossFn] = None,
        warmup_examples: int = 0,
    ) -> None:
        """Initialize the student.

        vocab (Vocab): The shared vocabulary.
        model (Model[List[Doc], Floats2d]): An exclusive textcat model (ending in a softmax).
        name (str): The component instance name.
        threshold (float): Unused, as in the stock single-label textcat.
        scorer (Optional[Callable]): The scoring method, the stock textcat's by default.
        loss (Optional[LossFn]): The loss; `configure_distillation_loss()` (KL, T = 1, alpha = 0)
            by default.
        warmup_examples (int): While training, the dev score (`cats_score`) is reported as 0.0
            until the component has been updated on this many examples, so that early stopping
            cannot select a (nearly) untrained checkpoint: spaCy scores dev after the first update
            and keeps the earliest of equal or better scores.
        """
        super().__init__(vocab, model, name, threshold=threshold, scorer=scorer)
        self.loss = loss if loss is not None else configure_distillation_loss()
        if warmup_examples < 0:
            raise ValueError(errors.E_WARMUP_EXAMPLES.format(value=warmup_examples))
        self.warmup_examples = warmup_examples
        # Examples seen by `update` in this process; None until training starts, so that a
        # loaded pipeline is scored as it is.
        self.examples_seen: Optional[int] = None

    def update(self, examples: Iterable[Example], **kwargs) -> Dict[str, float]:
        """Update the model (see TextCategorizer.update), counting the examples for the warm-up."""
        examples = list(examples)
        self.examples_seen = (self.examples_seen or 0) + len(examples)
        return super().update(examples, **kwargs)

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        """Score a batch (see TextCategorizer.score); `cats_score` is 0.0 during the warm-up."""
        scores = super().score(examples, **kwargs)
        if self.examples_seen is not None and self.examples_seen < self.warmup_examples:
            scores["cats_score"] = 0.0
        return scores

    def _validate_categories(self, examples: Iterable[Example]) -> None:
        """Check that every reference doc's cats hold probabilities summing to 1.

        Replaces the stock check (E851: only 0 or 1), which rejects soft labels.
        """
        for eg in examples:
            cats = eg.reference.cats
            text = eg.reference.text[:80]
            if not cats:
                raise ValueError(errors.E_SOFT_CATS_EMPTY.format(text=text))
            for label, value in cats.items():
                if not (isinstance(value, numbers.Real) and 0.0 <= value <= 1.0):
                    raise ValueError(
                        errors.E_SOFT_CATS_VALUE.format(label=label, value=value, text=text)
                    )
            total = sum(cats.values())
            if abs(total - 1.0) > SUM_TOLERANCE:
                raise ValueError(errors.E_SOFT_CATS_SUM.format(total=total, cats=cats, text=text))
            gold = get_gold_label(eg.reference)
            if gold is not None and not isinstance(gold, str):
                message = errors.E_GOLD_NOT_STRING.format(value=gold, key=GOLD_KEY, text=text)
                raise ValueError(message)

    def _examples_to_targets(
        self, examples: Iterable[Example]
    ) -> Tuple[Floats2d, Floats2d, Floats2d]:
        """The teacher's probabilities (renormalised over our labels), one-hot gold labels and
        the gold mask, as arrays of shape (n, n_labels), (n, n_labels) and (n, 1)."""
        examples = list(examples)
        labels = self.labels
        teacher = numpy.zeros((len(examples), len(labels)), dtype="f")
        gold = numpy.zeros((len(examples), len(labels)), dtype="f")
        has_gold = numpy.zeros((len(examples), 1), dtype="f")
        for i, eg in enumerate(examples):
            cats = eg.reference.cats
            # A label missing from cats has probability 0, as in the stock exclusive textcat.
            teacher[i] = [cats.get(label, 0.0) for label in labels]
            total = teacher[i].sum()
            if total <= 0.0:
                raise ValueError(errors.E_SOFT_CATS_NO_MASS.format(labels=labels, cats=cats))
            teacher[i] /= total
            gold_label = get_gold_label(eg.reference)
            if gold_label is not None:
                if gold_label not in labels:
                    text = eg.reference.text[:80]
                    raise ValueError(
                        errors.E_GOLD_LABEL.format(
                            label=gold_label, key=GOLD_KEY, text=text, labels=list(labels)
                        )
                    )
                gold[i, labels.index(gold_label)] = 1.0
                has_gold[i, 0] = 1.0
        ops = self.model.ops
        return ops.asarray(teacher), ops.asarray(gold), ops.asarray(has_gold)

    def get_loss(self, examples: Iterable[Example], scores: Floats2d) -> Tuple[float, Floats2d]:
        """Find the distillation loss of the batch and the gradient to backpropagate.

        examples (Iterable[Example]): The batch; reference cats hold the teacher's probabilities.
        scores (Floats2d): The model's predictions (probabilities).
        RETURNS (Tuple[float, Floats2d]): The loss and the gradient, in the form the model's
            output layer takes: d_loss/d_scores for the bag-of-words textcat, d_loss/d_logits
            for models ending in thinc's `Softmax` layer (see
            `_output_layer_takes_logit_gradient`). The loss is summed over the batch.
        """
        validate_examples(examples, "DistillTextCategorizer.get_loss")
        self._validate_categories(examples)
        teacher, gold, has_gold = self._examples_to_targets(examples)
        loss, d_scores = self.loss(scores, teacher, gold, has_gold)
        if _output_layer_takes_logit_gradient(self.model):
            d_scores = self.model.ops.backprop_softmax(scores, d_scores)
        return loss, d_scores


@Language.factory(
    FACTORY,
    assigns=["doc.cats"],
    default_config={
        "threshold": 0.0,
        "model": DEFAULT_SINGLE_TEXTCAT_MODEL,
        "scorer": {"@scorers": "spacy.textcat_scorer.v2"},
        "loss": {"@misc": LOSS_NAME, "kind": "kl", "temperature": 1.0, "alpha": 0.0},
        "warmup_examples": 0,
    },
    # As the stock textcat's: the student is scored on the dev set's gold labels.
    default_score_weights={
        "cats_score": 1.0,
        "cats_score_desc": None,
        "cats_micro_p": None,
        "cats_micro_r": None,
        "cats_micro_f": None,
        "cats_macro_p": None,
        "cats_macro_r": None,
        "cats_macro_f": None,
        "cats_macro_auc": None,
        "cats_f_per_type": None,
    },
)
def make_distill_textcat(
    nlp: Language,
    name: str,
    model: Model[List[Doc], Floats2d],
    threshold: float,
    scorer: Optional[Callable],
    loss: LossFn,
    warmup_examples: int,
) -> DistillTextCategorizer:
    """Create a `DistillTextCategorizer` (factory "distill_textcat").

    model (Model[List[Doc], Floats2d]): An exclusive textcat model, e.g. spacy.TextCatBOW.v3
        with exclusive_classes = true.
    threshold (float): Unused, as in the stock single-label textcat.
    scorer (Optional[Callable]): The scoring method.
    loss (LossFn): The loss, e.g. from "distill_spacy.DistillationLoss.v1".
    warmup_examples (int): Training examples before a dev score can count (see the class).
    RETURNS (DistillTextCategorizer): The component.
    """
    return DistillTextCategorizer(
        nlp.vocab, model, name, threshold=threshold, scorer=scorer, loss=loss,
        warmup_examples=warmup_examples,
    )


def stock_config(config: Config) -> Config:
    """A copy of a pipeline config with every `distill_textcat` component turned into a stock
    `textcat`: the factory renamed and the settings the stock factory does not take (`loss`)
    dropped. Raises ValueError if the runtime sections still name a distill_spacy function.

    config (Config): The trained student's config (`nlp.config`).
    RETURNS (Config): The config of an equivalent pipeline that needs spaCy alone.
    """
    config = config.copy()
    stock_keys = {"factory", "model", "threshold", "scorer"}
    for component in config.get("components", {}).values():
        if component.get("factory") == FACTORY:
            component["factory"] = "textcat"
            for key in set(component) - stock_keys:
                del component[key]
    _check_no_distill_references(config)
    return config


def _check_no_distill_references(config: Config) -> None:
    # The sections spacy.load resolves, as in spacy/cli/package.py's requirement search;
    # [training] and [initialize] are not needed at runtime.
    refs: List[Tuple[str, str, str]] = []
    for section in ("nlp", "components"):
        for path, value in util.walk_dict(config[section]):
            if path[-1].startswith("@"):
                refs.append((".".join([section, *path]), path[-1][1:], value))
    for name, component in config.get("components", {}).items():
        if "factory" in component:
            refs.append((f"components.{name}.factory", "factories", component["factory"]))
    for where, registry_name, func_name in refs:
        try:
            module = util.registry.find(registry_name, func_name).get("module") or ""
        except RegistryError:  # an unknown name fails at load time anyway, with spaCy's message
            continue
        if module.split(".")[0] == "distill_spacy":
            raise ValueError(errors.E_NOT_STOCK.format(where=where, value=func_name))


def convert_to_stock(model: Union[str, Path, Language], output_dir: Union[str, Path]) -> Path:
    """Save a trained student as a pipeline whose config names the stock `textcat` factory.

    The weights are written unchanged (the student's model is a stock textcat model), so the
    saved pipeline predicts the same cats and loads with `spacy.load` without distill_spacy.
    A pipeline without a student component is saved as it is.

    model (Union[str, Path, Language]): The trained pipeline or its folder (model-best).
    output_dir (Union[str, Path]): Where to write the converted pipeline.
    RETURNS (Path): output_dir.
    """
    nlp = model if isinstance(model, Language) else spacy.load(model)
    config = stock_config(nlp.config)
    output_dir = Path(output_dir)
    # Written beside the target and renamed, so that a failure leaves no half-written pipeline.
    tmp = output_dir.with_name(output_dir.name + ".converting")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp, exclude=["config.cfg"])
    config.to_disk(tmp / "config.cfg")
    shutil.rmtree(output_dir, ignore_errors=True)
    tmp.rename(output_dir)
    return output_dir
