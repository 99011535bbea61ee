"""The teacher's numeric precision for labelling: fp32 as trained, or int8 by dynamic quantization
of its linear layers (PyTorch's `quantize_dynamic`, CPU only).

Dynamic quantization stores the weights of every `torch.nn.Linear` of the transformer as int8 and
quantizes the activations on the fly; the embeddings, layer norms and the textcat head (a thinc
layer, not torch) stay fp32. Labels of an int8 teacher differ slightly from the fp32 ones, so they
are cached under their own key (`cache_key`).
"""
import warnings
from pathlib import Path
from typing import Iterator, Union

import numpy
import spacy
from spacy.language import Language
from wasabi import msg

from .errors import E_INT8_ON_GPU_MODEL, E_UNKNOWN_PRECISION, UserError

PRECISIONS = ("fp32", "int8")


def check_precision(precision: str) -> str:
    """RETURNS (str): The precision, if it is one of PRECISIONS; else raises UserError."""
    if precision not in PRECISIONS:
        raise UserError(E_UNKNOWN_PRECISION.format(value=precision, known=", ".join(PRECISIONS)))
    return precision


def resolve_precision(precision: str, gpu_id: int = -1) -> str:
    """The precision to label with: int8 on a GPU falls back to fp32, with a message.

    precision (str): "fp32" or "int8" (var `teacher_precision`).
    gpu_id (int): The GPU the teacher runs on, or -1 for the CPU.
    RETURNS (str): The precision to use.
    """
    check_precision(precision)
    if precision == "int8" and gpu_id >= 0:
        msg.warn(
            f"teacher_precision int8 is CPU-only (PyTorch's dynamic quantization has no GPU kernels): "
            f"labelling on GPU {gpu_id} in fp32. Pass --vars.teacher_precision fp32 to silence this, "
            "or --vars.gpu_id -1 to label on the CPU in int8."
        )
        return "fp32"
    return precision


def cache_key(fingerprint: str, precision: str) -> str:
    """The label cache's teacher key: fp32 labels keep the plain fingerprint (so existing caches
    stay valid), int8 labels get their own."""
    return fingerprint if check_precision(precision) == "fp32" else f"{fingerprint}:{precision}"


def torch_modules(nlp: Language) -> Iterator[object]:
    """The torch modules inside a pipeline's thinc models (spacy-transformers' HFShim and any other
    PyTorchShim)."""
    from thinc.shims import PyTorchShim

    seen = set()
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None:
            continue
        for node in model.walk():
            for shim in node.shims:
                if isinstance(shim, PyTorchShim) and id(shim) not in seen:
                    seen.add(id(shim))
                    yield shim._model


def quantize_teacher(nlp: Language) -> int:
    """Quantize the linear layers of the teacher's transformer to int8, in place.

    nlp (Language): The loaded teacher, on the CPU.
    RETURNS (int): The number of linear layers quantized.
    """
    import torch
    from torch.ao.quantization import quantize_dynamic

    n_linear = 0
    for module in torch_modules(nlp):
        if any(p.device.type != "cpu" for p in module.parameters()):
            raise UserError(E_INT8_ON_GPU_MODEL.format(device=next(module.parameters()).device))
        n_linear += sum(isinstance(m, torch.nn.Linear) for m in module.modules())
        with warnings.catch_warnings():
            # torch.ao.quantization announces its move to torchao; the API still works in torch 2.x.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return n_linear


def load_teacher(path: Union[str, Path], precision: str = "fp32") -> Language:
    """Load the trained teacher pipeline in the given precision.

    path (Union[str, Path]): The teacher's folder (training/teacher/model-best).
    precision (str): "fp32" (as trained) or "int8" (linear layers quantized; CPU only, see
        `resolve_precision`).
    RETURNS (Language): The teacher.
    """
    check_precision(precision)
    nlp = spacy.load(path)
    if precision == "int8":
        quantize_teacher(nlp)
    return nlp


def label_agreement(reference: numpy.ndarray, other: numpy.ndarray, confident: float = 0.6) -> dict:
    """How close two teachers' labels are, from their log-probabilities (one row per text).

    reference (numpy.ndarray): Log-probabilities of the reference teacher (fp32).
    other (numpy.ndarray): Log-probabilities of the other teacher (int8), same texts and labels.
    RETURNS (dict): "argmax_agreement" (share of texts with the same top label), the same over the
        texts whose reference top probability is at least `confident` ("confident_texts"), "mean_kl"
        and "max_kl" (KL(reference || other) per text, in nats), "mean_abs_prob_diff", "texts".
        Near a tie a tiny difference flips the argmax, hence the confident share beside it.
    """
    import numpy

    p = numpy.exp(reference.astype("float64"))
    kl = (p * (reference.astype("float64") - other.astype("float64"))).sum(axis=1)
    same = reference.argmax(axis=1) == other.argmax(axis=1)
    sure = p.max(axis=1) >= confident if len(p) else numpy.zeros((0,), dtype=bool)
    return {
        "texts": int(len(p)),
        "argmax_agreement": float(same.mean()) if len(p) else 1.0,
        "confident": confident,
        "confident_texts": int(sure.sum()),
        "argmax_agreement_confident": float(same[sure].mean()) if sure.any() else 1.0,
        "mean_kl": float(kl.mean()) if len(p) else 0.0,
        "max_kl": float(kl.max()) if len(p) else 0.0,
        "mean_abs_prob_diff": float(numpy.abs(p - numpy.exp(other.astype("float64"))).mean()) if len(p) else 0.0,
    }
