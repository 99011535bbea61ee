"""Read labelled texts from CSV, JSONL or Rasa NLU YAML, validate them, and write spaCy DocBins."""
import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from srsly.ruamel_yaml import YAML
from srsly.ruamel_yaml.error import YAMLError
from wasabi import msg

from . import errors
from .errors import data_error

PathLike = Union[str, Path]

# Rasa entity markup: [text](entity), [text](entity:value), [text]{"entity": ...}, [text][{...}, ...]
ENTITY_MARKUP = re.compile(r"\[(?P<text>[^\]]*)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")
# A labelled text this long is a document, not a message: preprocess warns about it.
LONG_TEXT = 10_000


@dataclass(frozen=True)
class Record:
    """One labelled text and where it came from."""

    text: str
    label: str
    path: str
    line: int


@dataclass
class PreprocessSummary:
    """What `preprocess` read and wrote."""

    labels: List[str]
    counts: Dict[str, int]
    label_counts: Dict[str, Dict[str, int]]
    duplicates: Dict[str, int]
    overlaps: Dict[str, int]
    outputs: Dict[str, str] = field(default_factory=dict)


def read_text_file(path: PathLike) -> str:
    """Read a file as UTF-8 (a leading BOM is allowed).

    path (PathLike): The file.
    RETURNS (str): Its text. Raises DataError naming the line of the first bad byte.
    """
    path = Path(path)
    if not path.is_file():
        raise data_error(path, None, errors.E_NO_FILE)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise data_error(
            path, line, errors.E_NOT_UTF8, bytes=data[e.start : e.end], offset=e.start, name=path.name
        ) from None


def strip_entity_markup(text: str) -> str:
    """Turn Rasa's entity markup into plain text: "from [Berlin](city)" -> "from Berlin"."""
    return ENTITY_MARKUP.sub(lambda m: m.group("text"), text)


def read_records(
    path: PathLike, text_col: str = "text", label_col: Optional[str] = "label"
) -> List[Record]:
    """Read labelled examples from a CSV, JSONL or Rasa NLU YAML file.

    path (PathLike): A .csv, .jsonl/.json or .yml/.yaml file.
    text_col (str): Column (CSV) or field (JSONL) that holds the text.
    label_col (Optional[str]): Column or field that holds the label; None reads texts only
        (their label is ""). Rasa YAML takes labels from the intent names.
    RETURNS (List[Record]): The examples, in file order. Raises DataError on bad input.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = read_csv(path, text_col, label_col)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        records = read_jsonl(path, text_col, label_col)
    elif suffix in (".yml", ".yaml"):
        records = read_rasa_yaml(path)
    else:
        raise data_error(path, None, errors.E_UNKNOWN_FORMAT, suffix=suffix)
    if not records:
        raise data_error(path, None, errors.E_NO_ROWS)
    return records


def _clean_text(value: object, path: Path, line: int, column: str) -> str:
    if not isinstance(value, str):
        raise data_error(
            path, line, errors.E_NOT_STRING, column=column, value=value, type=type(value).__name__
        )
    text = value.strip()
    if not text:
        raise data_error(path, line, errors.E_EMPTY_TEXT, column=column)
    return text


def _clean_label(value: object, path: Path, line: int, column: str) -> str:
    # Numbers are fine as label names (0/1 star columns); anything else is not a label.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise data_error(
            path, line, errors.E_NOT_STRING, column=column, value=value, type=type(value).__name__
        )
    label = str(value).strip()
    if not label:
        raise data_error(path, line, errors.E_EMPTY_LABEL, column=column)
    return label


def _check_columns(path: Path, found: Sequence[str], text_col: str, label_col: Optional[str], line: int):
    # The project var first: that is what a user of `spacy project run` types.
    wanted = [(text_col, "text", "--vars.text_col (scripts: --text-col)")]
    if label_col is not None:
        wanted.append((label_col, "label", "--vars.label_col (scripts: --label-col)"))
    for column, role, option in wanted:
        if column not in found:
            raise data_error(
                path, line, errors.E_MISSING_COLUMN, column=column, role=role,
                found=", ".join(map(repr, found)) or "none", option=option,
            )


def read_csv(path: PathLike, text_col: str = "text", label_col: Optional[str] = "label") -> List[Record]:
    """Read a CSV file with a header row. Line numbers count physical lines (1 = header)."""
    path = Path(path)
    reader = csv.DictReader(io.StringIO(read_text_file(path), newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as e:
        raise data_error(path, 1, errors.E_BAD_CSV, error=e) from None
    _check_columns(path, header, text_col, label_col, line=1)
    records = []
    line = reader.line_num + 1  # physical line where the next row starts
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise data_error(path, line, errors.E_BAD_CSV, error=e) from None
        # A short row leaves missing cells as None: treat them as empty.
        text = _clean_text(row[text_col] or "", path, line, text_col)
        label = "" if label_col is None else _clean_label(row[label_col] or "", path, line, label_col)
        records.append(Record(text, label, str(path), line))
        line = reader.line_num + 1
    return records


def read_jsonl(path: PathLike, text_col: str = "text", label_col: Optional[str] = "label") -> List[Record]:
    """Read JSON Lines: one object per line. Blank lines are counted and reported, not parsed."""
    path = Path(path)
    records = []
    blank = 0
    for line, raw in enumerate(read_text_file(path).splitlines(), start=1):
        if not raw.strip():
            blank += 1
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise data_error(path, line, errors.E_BAD_JSON, error=e.msg) from None
        if not isinstance(obj, dict):
            raise data_error(path, line, errors.E_NOT_OBJECT, type=type(obj).__name__)
        _check_columns(path, list(obj), text_col, label_col, line)
        text = _clean_text(obj[text_col], path, line, text_col)
        label = "" if label_col is None else _clean_label(obj[label_col], path, line, label_col)
        records.append(Record(text, label, str(path), line))
    if blank:
        msg.info(f"{path}: ignored {blank} blank line(s)")
    return records


def read_rasa_yaml(path: PathLike) -> List[Record]:
    """Read the intent examples of a Rasa NLU YAML file, entity markup stripped to plain text.

    Synonym, regex and lookup sections hold no labelled examples: they are counted and reported.
    """
    path = Path(path)
    try:
        data = YAML().load(read_text_file(path))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = e.problem if hasattr(e, "problem") else e
        raise data_error(path, line, errors.E_BAD_YAML, error=problem) from None
    items = data.get("nlu") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise data_error(path, None, errors.E_RASA_NO_NLU)
    records: List[Record] = []
    other: Counter = Counter()
    for i, item in enumerate(items):
        item_line = items.lc.item(i)[0] + 1
        if not isinstance(item, dict):
            raise data_error(path, item_line, errors.E_RASA_BAD_ITEM, value=item)
        if "intent" not in item:
            other[next(iter(item), "unknown")] += 1
            continue
        intent = _clean_label(item["intent"], path, item_line, "intent")
        examples = item.get("examples")
        if isinstance(examples, str):
            # The block scalar starts on the line after `examples: |`.
            first = item.lc.value("examples")[0] + 2
            found = _read_example_block(examples, intent, path, first)
        elif isinstance(examples, list):  # `- text: ...` items with metadata
            found = []
            for j, ex in enumerate(examples):
                line = examples.lc.item(j)[0] + 1
                value = ex.get("text") if isinstance(ex, dict) else ex
                text = _clean_text(value, path, line, "text")
                found.append(Record(strip_entity_markup(text).strip(), intent, str(path), line))
        else:
            found = []
        if not found:
            raise data_error(path, item_line, errors.E_RASA_NO_EXAMPLES, intent=intent)
        records.extend(found)
    if other:
        skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(other.items()))
        msg.info(f"{path}: ignored sections without intent examples ({skipped})")
    return records


def _read_example_block(block: str, intent: str, path: Path, first_line: int) -> List[Record]:
    records = []
    for j, raw in enumerate(block.splitlines()):
        line = first_line + j
        raw = raw.strip()
        if not raw:
            continue
        if not raw.startswith("- "):
            raise data_error(path, line, errors.E_RASA_BAD_EXAMPLE, value=raw)
        text = _clean_text(strip_entity_markup(raw[2:]), path, line, "example")
        records.append(Record(text, intent, str(path), line))
    return records


def check_splits(splits: Dict[str, List[Record]]) -> PreprocessSummary:
    """Validate train/dev/test together: every label seen in training, at least two classes.

    splits (Dict[str, List[Record]]): Records by split name; "train" is required.
    RETURNS (PreprocessSummary): Labels (in order of first appearance in train) and counts.
        Duplicates within a split and texts shared between splits are counted and printed.
    """
    train = splits["train"]
    label_counts = {name: dict(Counter(r.label for r in recs)) for name, recs in splits.items()}
    labels = list(dict.fromkeys(r.label for r in train))
    if len(labels) < 2:
        raise data_error(train[0].path, None, errors.E_SINGLE_CLASS, label=labels[0])
    known = set(labels)
    for name, recs in splits.items():
        for r in recs:
            if r.label not in known:
                raise data_error(
                    r.path, r.line, errors.E_UNSEEN_LABEL, label=r.label,
                    train=train[0].path, known=sorted(known),
                )
    long_texts = [r for recs in splits.values() for r in recs if len(r.text) > LONG_TEXT]
    if long_texts:
        longest = max(long_texts, key=lambda r: len(r.text))
        msg.warn(errors.W_LONG_TEXT.format(
            count=len(long_texts), limit=LONG_TEXT, n=len(longest.text), path=longest.path, line=longest.line
        ))
    duplicates = {}
    for name, recs in splits.items():
        n = len(recs) - len({r.text for r in recs})
        duplicates[name] = n
        if n:
            msg.warn(errors.W_DUPLICATE_TEXTS.format(split=name, count=n))
    overlaps = {}
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = {r.text for r in splits[a]} & {r.text for r in splits[b]}
            overlaps[f"{a}-{b}"] = len(shared)
            if shared:
                msg.warn(errors.W_OVERLAP.format(
                    count=len(shared), split=b, other=a, example=sorted(shared)[0]
                ))
    return PreprocessSummary(
        labels=labels,
        counts={name: len(recs) for name, recs in splits.items()},
        label_counts=label_counts,
        duplicates=duplicates,
        overlaps=overlaps,
    )


def records_to_docbin(records: Iterable[Record], labels: Sequence[str], nlp: Language) -> DocBin:
    """Make Docs with exclusive cats (1.0 for the gold label, 0.0 for the others)."""
    db = DocBin(store_user_data=False)
    for r in records:
        doc = nlp.make_doc(r.text)
        doc.cats = {label: float(label == r.label) for label in labels}
        db.add(doc)
    return db


def fingerprint(path: PathLike) -> str:
    """A sha256 hex digest of a file's bytes, or of every file of a folder with its relative path.

    A changed file (a retrained model, edited data) gets a new digest.
    """
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode("utf8") + b"\0")
        with file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: PathLike, data: Union[bytes, str]) -> None:
    """Write bytes (or text, as UTF-8) to path via a temporary file in the same folder, so a crash
    leaves no half file. Raises DataError when the folder cannot be written to."""
    write_all_atomic({path: data})


def write_all_atomic(payloads: Dict[PathLike, Union[bytes, str]]) -> None:
    """Write several files together: each goes to a temporary file beside its target first, and
    only when all are written are they renamed into place. A failure while writing (a full disk,
    a folder without write access) leaves every old file as it was and no temporary file behind.

    payloads (Dict[PathLike, Union[bytes, str]]): Contents (text as UTF-8) by target path.
    """
    staged: List[Tuple[str, Path]] = []
    try:
        for path, data in payloads.items():
            path = Path(path)
            if isinstance(data, str):
                data = data.encode("utf8")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            except PermissionError as e:
                raise data_error(path, None, errors.E_NOT_WRITABLE, error=e.strerror) from None
            staged.append((tmp, path))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:  # those already renamed are gone; the rest must not stay behind
            Path(tmp).unlink(missing_ok=True)
        raise


def preprocess(
    inputs: Dict[str, PathLike],
    output_dir: PathLike,
    lang: str = "en",
    text_col: str = "text",
    label_col: str = "label",
) -> PreprocessSummary:
    """Read, validate and convert labelled splits to `<output_dir>/<split>.spacy`.

    inputs (Dict[str, PathLike]): Files by split name ("train" required, e.g. also "dev", "test").
    output_dir (PathLike): Folder for the DocBins and `labels.json`.
    lang (str): Language code for the tokenizer (spacy.blank).
    text_col (str): Text column/field of CSV and JSONL files.
    label_col (str): Label column/field of CSV and JSONL files.
    RETURNS (PreprocessSummary): Labels, counts and output paths. Nothing is written unless
        every file is valid.
    """
    if "train" not in inputs:
        raise ValueError("preprocess needs a 'train' split")
    splits = {name: read_records(path, text_col, label_col) for name, path in inputs.items()}
    summary = check_splits(splits)
    nlp = spacy.blank(lang)
    # Serialise everything before writing anything: a failure leaves the old outputs untouched.
    payloads = {
        Path(output_dir) / f"{name}.spacy": records_to_docbin(recs, summary.labels, nlp).to_bytes()
        for name, recs in splits.items()
    }
    payloads[Path(output_dir) / "labels.json"] = json.dumps(summary.labels, indent=2).encode("utf8")
    write_all_atomic(payloads)
    summary.outputs = {name: str(Path(output_dir) / f"{name}.spacy") for name in splits}
    return summary


def read_transfer_texts(path: Union[str, Path]) -> List[Dict]:
    """Read `corpus/transfer.jsonl` as written by `augment`: one {"text", "source", ...} per line."""
    path = Path(path)
    rows = []
    for line_no, line in enumerate(read_text_file(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise data_error(path, line_no, errors.E_TRANSFER_BAD_JSON, error=e.msg) from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise data_error(path, line_no, errors.E_TRANSFER_NO_TEXT)
        rows.append(row)
    return rows


TEXT_SUFFIXES = (".spacy", ".txt", ".csv", ".jsonl", ".json", ".ndjson", ".yml", ".yaml")


def read_texts(path: PathLike, text_col: str = "text") -> List[str]:
    """Read texts without labels, e.g. unlabelled in-domain texts or the texts of a DocBin.

    path (PathLike): A .spacy DocBin, a .txt file (one text per line), or a .csv, .jsonl/.json or
        Rasa NLU .yml/.yaml file as `read_records` reads them.
    text_col (str): Column (CSV) or field (JSONL) that holds the text.
    RETURNS (List[str]): The texts, in file order. Blank lines of a .txt file are skipped and
        reported. Raises DataError on bad input or a file without texts.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise data_error(path, None, errors.E_UNKNOWN_TEXT_FORMAT, suffix=suffix)
    if suffix == ".spacy":  # a DocBin, or a folder of DocBin shards (corpus/transfer.spacy)
        from spacy.vocab import Vocab

        from .shards import iter_docs

        texts = [doc.text for doc in iter_docs(path, Vocab())]
    elif suffix == ".txt":
        lines = read_text_file(path).splitlines()
        texts = [line.strip() for line in lines if line.strip()]
        if len(texts) < len(lines):
            msg.info(f"{path}: ignored {len(lines) - len(texts)} blank line(s)")
    else:
        return [r.text for r in read_records(path, text_col, label_col=None)]
    if not texts:
        raise data_error(path, None, errors.E_NO_ROWS)
    return texts


def read_transfer_summary(path: Union[str, Path]) -> Dict:
    """The settings `augment` wrote into `corpus/transfer.summary.json` (n_iter, augmenters, ...)."""
    path = Path(path)
    try:
        settings = json.loads(read_text_file(path))["settings"]
        missing = [k for k in ("augmenters", "n_iter", "budget", "pos_model", "seed", "lang") if k not in settings]
    except (ValueError, KeyError, TypeError) as e:
        raise data_error(path, None, errors.E_TRANSFER_SUMMARY, problem=f"cannot be read ({e})") from None
    if missing:
        raise data_error(path, None, errors.E_TRANSFER_SUMMARY, problem=f"has no settings {missing}")
    return settings
