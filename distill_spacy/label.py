"""Labelling texts with a trained teacher: batched, length-sorted forward passes, a SQLite cache of
log-probabilities per teacher, the teacher's temperature applied, and the student's DocBin.

Loading the teacher pipeline needs spacy-transformers (through its entry points); this module
itself imports no torch.
"""
import json
import random
import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from tqdm import tqdm
from wasabi import msg

from .calibration import Calibration, softmax_at, to_logprobs
from .data import PathLike, fingerprint, read_transfer_texts, write_all_atomic


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
    n_known = len(known)
    try:
        with tqdm(total=len(missing), unit="text", desc="Labelling", disable=not progress) as bar:
            for i in range(0, len(missing), batch_size):
                batch = missing[i : i + batch_size]
                logprobs = teacher_logprobs(nlp, batch, cache.labels)
                cache.put(zip(batch, logprobs))
                known.update(zip(batch, logprobs))
                bar.update(len(batch))
    except KeyboardInterrupt:
        msg.warn(
            f"Interrupted: {len(known) - n_known} newly labelled texts are saved in the label cache "
            f"{cache.path} ({len(known)} of {len(unique)} in all). Run the same command again to "
            "label the rest; nothing else was written."
        )
        raise
    return numpy.stack([known[t] for t in texts]) if texts else numpy.zeros((0, len(cache.labels)))


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
) -> LabelSummary:
    """Label the transfer set with the teacher and write the student's training DocBin.

    Each Doc's `cats` hold the teacher's probabilities; the original training texts also carry
    their gold label (`distill_spacy.student.set_gold_label`), for the loss's `alpha`.

    teacher_dir (Union[str, Path]): The trained teacher (training/teacher/model-best).
    transfer_path (Union[str, Path]): The texts, `corpus/transfer.jsonl`.
    train_path (Union[str, Path]): The gold training DocBin, for the originals' gold labels.
    output_path (Union[str, Path]): The DocBin to write, e.g. `corpus/transfer.spacy`.
    cache_path (Union[str, Path]): The label cache (SQLite).
    batch_size (int): Texts per forward pass.
    balance (bool): Drop augmented texts of over-represented teacher labels (see
        `balance_by_teacher_label`).
    seed (int): Seed of the balancing draw.
    calibration (Optional[Union[str, Path]]): The teacher's calibration.json; its temperature,
        when below 1 (a teacher too flat), divides the cached log-probabilities before the
        softmax; a temperature above 1 is not applied. None: T = 1.
    RETURNS (LabelSummary): Counts, also written to <output_path>.labels.json; the DocBin and
        that summary are written together, atomically.
    """
    from .student import set_gold_label

    fitted = Calibration.from_disk(calibration).temperature if calibration else 1.0
    # Only a teacher that is too flat is re-tempered (T < 1 sharpens its labels). Softening an
    # overconfident one (T > 1) cost the student 2 points on the reviews (0.813 vs 0.833 at T = 1,
    # 2026-12-07): its sharp labels are what the student should copy.
    temperature = min(fitted, 1.0)
    nlp = spacy.load(teacher_dir)
    labels = list(nlp.get_pipe("textcat").labels)
    rows = read_transfer_texts(transfer_path)
    texts = [r["text"] for r in rows]
    cache = LabelCache(cache_path, teacher_fingerprint(teacher_dir), labels)
    try:
        cached = len(cache.get(texts))
        logprobs = label_texts(nlp, texts, cache, batch_size=batch_size)
    finally:
        cache.close()
    raw = softmax_at(logprobs, 1.0)
    probs = softmax_at(logprobs, temperature)
    predicted = [labels[i] for i in probs.argmax(axis=1)]
    keep, dropped = (
        balance_by_teacher_label(rows, predicted, seed) if balance else (list(range(len(rows))), Counter())
    )
    gold = {doc.text: max(doc.cats, key=doc.cats.get) for doc in DocBin().from_disk(train_path).get_docs(nlp.vocab)}
    db = DocBin(store_user_data=True)
    with_gold = 0
    for i in keep:
        doc = nlp.make_doc(texts[i])
        doc.cats = {label: float(p) for label, p in zip(labels, probs[i])}
        if rows[i].get("source") == "original" and texts[i] in gold:
            set_gold_label(doc, gold[texts[i]])
            with_gold += 1
        db.add(doc)
    summary = LabelSummary(
        texts=len(texts),
        from_cache=cached,
        with_gold=with_gold,
        labels=labels,
        teacher_label_counts=dict(Counter(predicted)),
        dropped_by_balancing=dict(dropped),
        written_label_counts=dict(Counter(predicted[i] for i in keep)),
        mean_max_probability=float(probs.max(axis=1).mean()) if len(probs) else 0.0,
        temperature=temperature,
        mean_max_probability_raw=float(raw.max(axis=1).mean()) if len(raw) else 0.0,
        fitted_temperature=fitted,
        output=str(output_path),
    )
    # The DocBin and its summary (<output>.labels.json) are committed together.
    write_all_atomic({output_path: db.to_bytes(),
                      Path(output_path).with_suffix(".labels.json"): json.dumps(asdict(summary), indent=2) + "\n"})
    return summary


# Hard labels: the teacher's argmax, for the ablation variant `hard`.
def one_hot(cats: Dict[str, float]) -> Dict[str, float]:
    """The argmax of a probability dict as a one-hot dict; ties go to the first label."""
    top = max(cats, key=cats.get)
    return {label: float(label == top) for label in cats}


def harden_docbin(path: PathLike, output: Optional[PathLike] = None) -> int:
    """Replace the teacher's probabilities in a DocBin's cats by one-hot argmax labels.

    The gold labels of the original texts (user data) are kept.
    path (PathLike): A DocBin written by `label_transfer_set`.
    output (Optional[PathLike]): Where to write; the same file by default (atomically).
    RETURNS (int): The number of docs.
    """
    vocab = spacy.blank("xx").vocab
    db = DocBin(store_user_data=True)
    docs = list(DocBin().from_disk(path).get_docs(vocab))
    for doc in docs:
        doc.cats = one_hot(doc.cats)
        db.add(doc)
    write_all_atomic({output or path: db.to_bytes()})
    return len(docs)
