"""The registered augmentation methods and what they work on.

The methods follow Tang et al. (2019, section 3.2), "Distilling Task-Specific Knowledge from BERT into
Simple Neural Networks": masking, POS-guided replacement and n-gram sampling, plus the sentence
sampling that NLP Town added for long reviews. Each method is a registered function returning a
`TokenAugmenter` (rewrites single tokens) or a `SpanAugmenter` (cuts the text to a span); a package
can add its own through the entry point group `distill_spacy_augmenters` and switch it on by name.
The augmentation run that uses them (sampling, dedupe, leakage guard) is `distill_spacy.augment`.
"""
import bisect
import itertools
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

import catalogue
from spacy.tokens import Doc

from . import errors
from .errors import UserError

augmenters = catalogue.create("distill_spacy", "augmenters", entry_points=True)

Span = Tuple[int, int]
PosKey = Tuple[str, str]

class AugmenterError(UserError, ValueError):
    """Augmenters that cannot be built as asked. The message names the augmenter and the fix."""


def _error(message: errors.Message, **values) -> AugmenterError:
    return AugmenterError(message.format(**values))


# An elided word ends in an apostrophe and is written against the next one: "l'avis", "j’adore".
ELISION_MARKS = ("'", "\u2019")
# Marks that open a sentence which spaCy does not flag as left punctuation.
OPENING_MARKS = frozenset("¿¡")


def _opens(token) -> bool:
    return token.is_left_punct or token.text in OPENING_MARKS


def sentence_spans(doc: Doc) -> Tuple[Span, ...]:
    """The token ranges of the doc's sentences, each opening mark with the sentence it opens.

    spaCy's rule-based sentencizer ends a sentence only after all the punctuation that follows its
    final mark, so the opening mark of the next sentence ends up in the previous one: "¡No me
    gustó! ¿" + "Dónde está?", "Bof. «" + "Nul »", "Schlecht. „" + "Nie wieder“". A run of opening
    marks (left punctuation, "¿", "¡") that ends a sentence after a space moves to the next one.

    doc (Doc): A doc with sentence boundaries.
    RETURNS (Tuple[Span, ...]): (start, end) token ranges that cover the doc in order.
    """
    spans = [[sent.start, sent.end] for sent in doc.sents]
    for k in range(len(spans) - 1):
        start, end = spans[k]
        cut = end
        while cut - 1 > start and _opens(doc[cut - 1]) and doc[cut - 2].whitespace_:
            cut -= 1
        spans[k][1] = spans[k + 1][0] = cut
    return tuple((start, end) for start, end in spans)


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
            sents = sentence_spans(doc)
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
    def is_elided(self) -> Tuple[bool, ...]:
        """Whether each token is an elided word glued to the next: "l'" in "l'avis", "dell'" in
        "dell'articolo", "j’" in "j’adore" (French, Italian, Catalan...)."""
        n = len(self.words)
        return tuple(
            i + 1 < n and not self.spaces[i] and self.is_word[i] and word.endswith(ELISION_MARKS)
            for i, word in enumerate(self.words)
        )

    @cached_property
    def is_whole_word(self) -> Tuple[bool, ...]:
        """Whether each token stands as a word of its own in the text.

        spaCy splits "didn't" into "did" + "n't" and "gonna" into "gon" + "na": those pieces only read
        right glued to their neighbour, so they must never be drawn as replacements ("did's"). The
        word after an elision is whole ("avis" in "l'avis"); the elided "l'" is not.
        """
        n = len(self.words)
        flags = []
        for i, word in enumerate(self.words):
            glued_left = i > 0 and not self.spaces[i - 1] and self.is_word[i - 1] and not self.is_elided[i - 1]
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
