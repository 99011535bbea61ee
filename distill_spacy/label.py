"""Labelling texts with a trained teacher: batched, length-sorted forward passes, a SQLite cache of
log-probabilities per teacher, the teacher's temperature applied, and the student's DocBin (a
folder of shards, `distill_spacy.shards`).

Two engines fill the cache: "local" runs the teacher in this process, "ray" runs replicas of it on
a Ray cluster (`distill_spacy.ray_engine`). Either in fp32 or as an int8 teacher on the CPU
(`distill_spacy.precision`). Loading the teacher pipeline needs spacy-transformers (through its
entry points); this module itself imports no torch.
"""
import json
import random
import sqlite3
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from tqdm import tqdm
from wasabi import msg

from .calibration import Calibration, softmax_at, to_logprobs
from .data import PathLike, fingerprint, read_transfer_texts
from .errors import E_UNKNOWN_ENGINE, UserError
from .precision import cache_key, load_teacher, resolve_precision
from .shards import SHARD_SIZE, ShardWriter, iter_docs

ENGINES = ("local", "ray")


def teacher_fingerprint(model_dir: Union[str, Path]) -> str:
    """A hash of every file of a trained pipeline: a retrained or changed teacher gets a new one.

    model_dir (Union[str, Path]): The teacher's pipeline folder (e.g. training/teacher/model-best).
    RETURNS (str): A hex digest.
    """
    return fingerprint(model_dir)


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

    def known(self, texts: Iterable[str]) -> Set[str]:
        """The texts that have cached log-probabilities (without reading them)."""
        found = set()
        texts = list(texts)
        for i in range(0, len(texts), 500):
            chunk = texts[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT text, labels FROM labels WHERE teacher = ? AND text IN ({marks})",
                (self.fingerprint, *chunk),
            )
            found.update(text for text, labels in rows if json.loads(labels) == self.labels)
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
    return to_logprobs(probs)


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
    with saved_on_interrupt(cache, len(known), len(unique)):
        label_batches(nlp, missing, cache, batch_size, progress, into=known)
    return numpy.stack([known[t] for t in texts]) if texts else numpy.zeros((0, len(cache.labels)))


def label_batches(
    nlp: Language,
    texts: Sequence[str],
    cache: LabelCache,
    batch_size: int = 64,
    progress: bool = True,
    into: Optional[Dict[str, numpy.ndarray]] = None,
) -> None:
    """Label texts in order, in batches, committing each batch to the cache (and to `into`)."""
    with tqdm(total=len(texts), unit="text", desc="Labelling", disable=not progress) as bar:
        for i in range(0, len(texts), batch_size):
            batch = texts[i : i + batch_size]
            logprobs = teacher_logprobs(nlp, batch, cache.labels)
            cache.put(zip(batch, logprobs))
            if into is not None:
                into.update(zip(batch, logprobs))
            bar.update(len(batch))


@contextmanager
def saved_on_interrupt(cache: LabelCache, n_known: int, n_unique: int) -> Iterator[None]:
    """On Ctrl-C, say how many texts the cache kept and that the same command resumes."""
    before = len(cache)
    try:
        yield
    except KeyboardInterrupt:
        new = len(cache) - before
        msg.warn(
            f"Interrupted: {new} newly labelled texts are saved in the label cache "
            f"{cache.path} ({n_known + new} of {n_unique} in all). Run the same command again to "
            "label the rest; nothing else was written."
        )
        raise


def fill_cache(
    teacher_dir: Union[str, Path],
    texts: Sequence[str],
    cache: LabelCache,
    batch_size: int = 64,
    precision: str = "fp32",
    engine: str = "local",
    gpu_id: int = -1,
    ray_options=None,
    progress: bool = True,
) -> int:
    """Label the texts that the cache lacks, with the chosen engine; only those are sent.

    teacher_dir (Union[str, Path]): The trained teacher pipeline.
    texts (Sequence[str]): All texts (duplicates are labelled once).
    cache (LabelCache): Cache for this teacher and precision (`precision.cache_key`).
    batch_size (int): Texts per forward pass.
    precision (str): "fp32" or "int8" (already resolved for the device).
    engine (str): "local" (this process) or "ray" (`ray_engine.label_with_ray`).
    gpu_id (int): GPU of the local teacher (the caller has called `spacy.require_gpu`), or for
        Ray: >= 0 gives each actor a GPU.
    ray_options (Optional[RayOptions]): Address, actors and resources of the Ray engine.
    progress (bool): Show a progress bar.
    RETURNS (int): The number of distinct texts that were already in the cache.
    """
    if engine not in ENGINES:
        raise UserError(E_UNKNOWN_ENGINE.format(value=engine, known=", ".join(ENGINES)))
    unique = list(dict.fromkeys(texts))
    known = cache.known(unique)
    # Sorted by length, so that a batch pads little (in the actors too: blocks keep this order).
    missing = sorted((t for t in unique if t not in known), key=len)
    if known:
        msg.info(f"Label cache: {len(known)} of {len(unique)} texts already labelled by this teacher")
    if not missing:
        return len(known)
    with saved_on_interrupt(cache, len(known), len(unique)):
        if engine == "ray":
            from .ray_engine import RayOptions, label_with_ray

            label_with_ray(teacher_dir, missing, cache, batch_size, precision, gpu_id >= 0,
                           ray_options or RayOptions(), progress)
        else:
            label_batches(load_teacher(teacher_dir, precision), missing, cache, batch_size, progress)
    return len(known)


def teacher_labels(teacher_dir: Union[str, Path]) -> Tuple[List[str], Language]:
    """The teacher's textcat labels and its tokenizer, without loading its weights.

    RETURNS (Tuple[List[str], Language]): The labels (in the textcat's order) and a pipeline with
        the teacher's vocab and tokenizer only.
    """
    meta = spacy.util.load_meta(Path(teacher_dir) / "meta.json")
    nlp = spacy.load(teacher_dir, exclude=list(meta.get("pipeline", [])))
    return list(meta["labels"]["textcat"]), nlp


@dataclass
class LabelSummary:
    """What `label_transfer_set` labelled and wrote."""

    texts: int
    from_cache: int
    with_gold: int
    labels: List[str]
    # argmax of the teacher's probabilities, per label, before and after balancing
    teacher_label_counts: Dict[str, int]
    dropped_by_balancing: Dict[str, int]
    written_label_counts: Dict[str, int]
    mean_max_probability: float
    # the teacher's temperature (calibration.json) and the mean top probability without it
    temperature: float
    mean_max_probability_raw: float
    fitted_temperature: float
    output: str
    # how the labels were made: "fp32"/"int8", "local"/"ray"; the output's shards
    precision: str = "fp32"
    engine: str = "local"
    shards: int = 1


def balance_by_teacher_label(
    rows: Sequence[Dict], predicted: Sequence[str], seed: int = 0
) -> Tuple[List[int], Counter]:
    """Indices of rows to keep so that every teacher label is as frequent as the rarest one.

    Only augmented and unlabelled rows are dropped; the original training texts always stay.
    RETURNS (Tuple[List[int], Counter]): Kept row indices (in order) and dropped counts per label.
    """
    counts = Counter(predicted)
    target = min(counts.values())
    rng = random.Random(seed)
    keep = set(range(len(rows)))
    dropped: Counter = Counter()
    for label, n in counts.items():
        droppable = [i for i, r in enumerate(rows) if predicted[i] == label and r.get("source") != "original"]
        excess = min(n - target, len(droppable))
        for i in rng.sample(droppable, excess):
            keep.discard(i)
            dropped[label] += 1
    return sorted(keep), dropped


def label_transfer_set(
    teacher_dir: Union[str, Path],
    transfer_path: Union[str, Path],
    train_path: Union[str, Path],
    output_path: Union[str, Path],
    cache_path: Union[str, Path],
    batch_size: int = 64,
    balance: bool = False,
    seed: int = 0,
    calibration: Optional[Union[str, Path]] = None,
    precision: str = "fp32",
    engine: str = "local",
    gpu_id: int = -1,
    ray_options=None,
    shard_size: int = SHARD_SIZE,
    progress: bool = True,
) -> LabelSummary:
    """Label the transfer set with the teacher and write the student's training data.

    Each Doc's `cats` hold the teacher's probabilities; the original training texts also carry
    their gold label (`distill_spacy.student.set_gold_label`), for the loss's `alpha`. The output
    is a folder of DocBin shards (`distill_spacy.shards`), built one shard at a time from the
    cache: the log-probabilities of the whole set are never in memory together.

    teacher_dir (Union[str, Path]): The trained teacher (training/teacher/model-best).
    transfer_path (Union[str, Path]): The texts, `corpus/transfer.jsonl`.
    train_path (Union[str, Path]): The gold training DocBin, for the originals' gold labels.
    output_path (Union[str, Path]): The folder of shards to write, e.g. `corpus/transfer.spacy`.
    cache_path (Union[str, Path]): The label cache (SQLite).
    batch_size (int): Texts per forward pass.
    balance (bool): Drop augmented texts of over-represented teacher labels (see
        `balance_by_teacher_label`).
    seed (int): Seed of the balancing draw.
    calibration (Optional[Union[str, Path]]): The teacher's calibration.json; its temperature,
        when below 1 (a teacher too flat), divides the cached log-probabilities before the
        softmax; a temperature above 1 is not applied. None: T = 1.
    precision (str): "fp32", or "int8" (CPU only: on a GPU it falls back to fp32, with a message).
        int8 labels are cached apart from fp32 ones.
    engine (str): "local" (in this process) or "ray" (an actor pool of teacher replicas).
    gpu_id (int): The GPU the teacher runs on (Ray: each actor gets one), or -1 for the CPU.
    ray_options (Optional[RayOptions]): The Ray engine's address, actors and resources.
    shard_size (int): Docs per shard of the output.
    progress (bool): Show a progress bar.
    RETURNS (LabelSummary): Counts, also written to <output_path>.labels.json; the shards and
        that summary are put in place together, at the end.
    """
    from .student import set_gold_label

    precision = resolve_precision(precision, gpu_id)
    fitted = Calibration.from_disk(calibration).temperature if calibration else 1.0
    # Only a teacher that is too flat is re-tempered (T < 1 sharpens its labels). Softening an
    # overconfident one (T > 1) cost the student 2 points on the reviews (0.813 vs 0.833 at T = 1,
    # 2026-12-07): its sharp labels are what the student should copy.
    temperature = min(fitted, 1.0)
    labels, nlp = teacher_labels(teacher_dir)
    rows = read_transfer_texts(transfer_path)
    texts = [r["text"] for r in rows]
    cache = LabelCache(cache_path, cache_key(teacher_fingerprint(teacher_dir), precision), labels)
    try:
        cached = fill_cache(teacher_dir, texts, cache, batch_size, precision, engine, gpu_id, ray_options, progress)
        # First pass: the teacher's label of every text (for the counts and the balancing).
        predicted_ids = numpy.zeros((len(texts),), dtype="int32")
        top_raw = top = 0.0
        for start, probs, raw in _probability_chunks(cache, texts, temperature, shard_size):
            predicted_ids[start : start + len(probs)] = probs.argmax(axis=1)
            top += float(probs.max(axis=1).sum())
            top_raw += float(raw.max(axis=1).sum())
        predicted = [labels[i] for i in predicted_ids]
        keep, dropped = (
            balance_by_teacher_label(rows, predicted, seed) if balance else (range(len(rows)), Counter())
        )
        kept = numpy.zeros((len(texts),), dtype=bool)
        kept[list(keep)] = True
        # Second pass: the kept docs, one shard at a time.
        gold = {doc.text: max(doc.cats, key=doc.cats.get) for doc in DocBin().from_disk(train_path).get_docs(nlp.vocab)}
        with_gold = 0
        with ShardWriter(output_path, shard_size) as writer:
            for start, probs, _ in _probability_chunks(cache, texts, temperature, shard_size):
                for i in range(start, start + len(probs)):
                    if not kept[i]:
                        continue
                    doc = nlp.make_doc(texts[i])
                    doc.cats = {label: float(p) for label, p in zip(labels, probs[i - start])}
                    if rows[i].get("source") == "original" and texts[i] in gold:
                        set_gold_label(doc, gold[texts[i]])
                        with_gold += 1
                    writer.add(doc)
            summary = LabelSummary(
                texts=len(texts),
                from_cache=cached,
                with_gold=with_gold,
                labels=labels,
                teacher_label_counts=dict(Counter(predicted)),
                dropped_by_balancing=dict(dropped),
                written_label_counts=dict(Counter(predicted[i] for i in keep)),
                mean_max_probability=top / len(texts) if texts else 0.0,
                temperature=temperature,
                mean_max_probability_raw=top_raw / len(texts) if texts else 0.0,
                fitted_temperature=fitted,
                output=str(output_path),
                precision=precision,
                engine=engine,
                shards=max(1, -(-writer.n_docs // writer.shard_size)),
            )
            # The shards and their summary (<output>.labels.json) are put in place together.
            writer.commit({Path(output_path).with_suffix(".labels.json"): json.dumps(asdict(summary), indent=2) + "\n"})
    finally:
        cache.close()
    return summary


def _probability_chunks(
    cache: LabelCache, texts: Sequence[str], temperature: float, size: int
) -> Iterator[Tuple[int, numpy.ndarray, numpy.ndarray]]:
    """(start, probabilities at `temperature`, probabilities at T = 1) of consecutive chunks of
    texts, read from the cache."""
    for start in range(0, len(texts), size):
        chunk = texts[start : start + size]
        found = cache.get(chunk)
        logprobs = numpy.stack([found[t] for t in chunk])
        yield start, softmax_at(logprobs, temperature), softmax_at(logprobs, 1.0)


# Hard labels: the teacher's argmax, for the ablation variant `hard`.
def one_hot(cats: Dict[str, float]) -> Dict[str, float]:
    """The argmax of a probability dict as a one-hot dict; ties go to the first label."""
    top = max(cats, key=cats.get)
    return {label: float(label == top) for label in cats}


def harden_docbin(path: PathLike, output: Optional[PathLike] = None) -> int:
    """Replace the teacher's probabilities in a DocBin's cats by one-hot argmax labels.

    The gold labels of the original texts (user data) are kept.
    path (PathLike): The shards written by `label_transfer_set` (or one .spacy file).
    output (Optional[PathLike]): Where to write (a folder of shards); the same place by default,
        replaced at the end.
    RETURNS (int): The number of docs.
    """
    vocab = spacy.blank("xx").vocab
    with ShardWriter(output or path) as writer:
        for doc in iter_docs(path, vocab):
            doc.cats = one_hot(doc.cats)
            writer.add(doc)
        writer.commit()
    return writer.n_docs
