"""Static word vectors from the teacher's own input embeddings, for the student.

A student trained on a few thousand texts cannot learn what most words mean; the teacher's
WordPiece embedding matrix already holds that knowledge, offline. A word's vector is the mean
of the embeddings of the wordpieces the teacher's tokenizer splits it into (an uncased teacher's
tokenizer lower-cases first, so "Great" and "great" get the same vector).

The table is keyed by the token text (ORTH), with each casing a row of its own: spaCy 3.8 does
not save `Vectors.attr` for default-mode tables (only floret's `vectors.cfg` keeps it), so a
table keyed by LOWER would be looked up by ORTH once saved and reloaded. The casings kept are
those seen in the training texts plus, for an uncased teacher, the lower-cased and title-cased
forms of every word.

Which words get a row: the words of the texts the student trains on (training and transfer
texts: never dev or test texts, so no evaluation text leaks into the table) and, so that words
unseen in training still have a vector, every whole-word entry of the WordPiece vocabulary.
"""
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy
import spacy
from spacy.vectors import Vectors

from .data import PathLike
from .shards import iter_docs
from . import errors

# Rows are written in float32, as spaCy stores vectors.
DTYPE = "float32"
SOURCES = ("input", "output")


class VectorsSummary(NamedTuple):
    """What `init_vectors` wrote."""

    output_dir: Path
    rows: int  # rows (keys) of the table
    width: int
    corpus_words: int  # distinct words of the training/transfer texts
    corpus_words_with_vector: int


def wordpiece_vocab_words(tokenizer) -> List[str]:
    """The whole-word entries of a WordPiece vocabulary: no "##" continuations, no special or
    "[unused]" tokens.

    tokenizer: A Hugging Face (fast) WordPiece tokenizer.
    RETURNS (List[str]): The words, in vocabulary order.
    """
    specials = set(tokenizer.all_special_tokens)
    words = []
    for piece, _ in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1]):
        if piece in specials or piece.startswith("##"):
            continue
        if piece.startswith("[") and piece.endswith("]"):  # [unused12] and the like
            continue
        words.append(piece)
    return words


def wordpiece_mean_vectors(
    words: Sequence[str], tokenizer, embeddings: numpy.ndarray
) -> Tuple[List[str], numpy.ndarray]:
    """Average the input embeddings of each word's wordpieces.

    Words the tokenizer cannot split without the unknown token (or splits into nothing, such
    as whitespace) get no row: a row built from [UNK] would tell the student nothing.

    words (Sequence[str]): The words, as the keys of the table (the tokenizer normalises them
        for its own lookup, e.g. lower-cases them for an uncased teacher).
    tokenizer: The teacher's Hugging Face tokenizer.
    embeddings (numpy.ndarray): The teacher's word embedding matrix, (vocab size, width).
    RETURNS (Tuple[List[str], numpy.ndarray]): The words kept and their vectors, one row each.
    """
    if embeddings.ndim != 2 or embeddings.shape[0] < len(tokenizer):
        raise ValueError(
            errors.E_VECTORS_EMBEDDINGS.format(shape=embeddings.shape, n_pieces=len(tokenizer))
        )
    unk_id = tokenizer.unk_token_id
    kept: List[str] = []
    rows: List[numpy.ndarray] = []
    if not words:
        return kept, numpy.zeros((0, embeddings.shape[1]), dtype=DTYPE)
    encoded = tokenizer(list(words), add_special_tokens=False)["input_ids"]
    for word, ids in zip(words, encoded):
        if not ids or unk_id in ids:
            continue
        kept.append(word)
        rows.append(embeddings[ids].mean(axis=0))
    if not rows:
        return kept, numpy.zeros((0, embeddings.shape[1]), dtype=DTYPE)
    return kept, numpy.asarray(rows, dtype=DTYPE)


def corpus_words(paths: Iterable[PathLike], lang: str = "en") -> List[str]:
    """The distinct words of the texts in `.spacy` files, as spaCy's tokenizer for `lang`
    splits and spells them (the tokens the student will look up), in order of first occurrence.

    paths (Iterable[PathLike]): DocBins (files or folders of shards) of training or transfer texts
        (never dev or test).
    lang (str): The language of the student's tokenizer.
    RETURNS (List[str]): The words.
    """
    nlp = spacy.blank(lang)
    words = {}
    for path in paths:
        for doc in iter_docs(path, nlp.vocab):  # a .spacy file or a folder of shards
            # Re-tokenise the text: the stored tokens may come from another tokenizer.
            for token in nlp.make_doc(doc.text):
                if not token.is_space:
                    words[token.text] = None
    return list(words)


def load_teacher_model(model: PathLike) -> Tuple[object, object]:
    """The Hugging Face tokenizer and model of a teacher.

    model (PathLike): A trained spaCy teacher pipeline (its fine-tuned transformer is used), a
        Hugging Face model folder, or a hub name (see `teacher.resolve_teacher_name`).
    RETURNS (Tuple[object, object]): The tokenizer and the (torch) model, in eval mode.
    """
    path = Path(model)
    if (path / "config.cfg").exists():
        nlp = spacy.load(path)
        for _, pipe in nlp.pipeline:
            hf_model = getattr(pipe.model, "transformer", None)
            if hf_model is not None:
                return pipe.model.tokenizer, hf_model.eval()
        raise ValueError(errors.E_VECTORS_NO_TRANSFORMER.format(path=path, pipes=nlp.pipe_names))
    from transformers import AutoModel, AutoTokenizer

    from .teacher import resolve_teacher_name

    name = resolve_teacher_name(str(model))
    tokenizer = AutoTokenizer.from_pretrained(name, use_fast=True)
    return tokenizer, AutoModel.from_pretrained(name).eval()


def input_embeddings(hf_model) -> numpy.ndarray:
    """RETURNS (numpy.ndarray): The model's word (wordpiece) embedding matrix, (n_pieces, width)."""
    return hf_model.get_input_embeddings().weight.detach().cpu().numpy().astype(DTYPE)


def output_word_vectors(
    words: Sequence[str], tokenizer, hf_model, batch_size: int = 256
) -> Tuple[List[str], numpy.ndarray]:
    """Each word's vector from the teacher's last layer: the word is encoded alone
    ("[CLS] word [SEP]") and its wordpieces' last hidden states are averaged.

    Unlike the input embeddings, these have passed through the (fine-tuned) transformer, so for
    a fine-tuned teacher they carry what the teacher learned about the word's class; the
    teacher's own textcat averages the same kind of vectors over a text's tokens.

    words (Sequence[str]): The words.
    tokenizer: The teacher's tokenizer.
    hf_model: The teacher's Hugging Face (torch) model.
    batch_size (int): Words per forward pass.
    RETURNS (Tuple[List[str], numpy.ndarray]): The words kept (as `wordpiece_mean_vectors`) and
        their vectors.
    """
    import torch

    unk_id = tokenizer.unk_token_id
    ids_per_word = tokenizer(list(words), add_special_tokens=False)["input_ids"] if words else []
    kept = [(w, ids) for w, ids in zip(words, ids_per_word) if ids and unk_id not in ids]
    width = hf_model.config.hidden_size
    rows = numpy.zeros((len(kept), width), dtype=DTYPE)
    # Sorted by length, so that a batch pads little.
    order = sorted(range(len(kept)), key=lambda i: len(kept[i][1]))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            pieces = [kept[i][1] for i in idx]
            longest = max(len(p) for p in pieces)
            input_ids = torch.full((len(idx), longest + 2), tokenizer.pad_token_id)
            mask = torch.zeros((len(idx), longest + 2), dtype=torch.long)
            for j, p in enumerate(pieces):
                input_ids[j, : len(p) + 2] = torch.tensor(
                    [tokenizer.cls_token_id, *p, tokenizer.sep_token_id]
                )
                mask[j, : len(p) + 2] = 1
            hidden = hf_model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            for j, p in enumerate(pieces):
                rows[idx[j]] = hidden[j, 1 : len(p) + 1].mean(dim=0).cpu().numpy()
    return [w for w, _ in kept], rows


def build_vectors(
    words: Sequence[str],
    tokenizer,
    hf_model,
    *,
    source: str = "input",
    include_vocab: bool = True,
    lowercase: bool = True,
) -> Tuple[List[str], numpy.ndarray]:
    """The rows of the static vectors table: the given words, then (if `include_vocab`) the
    whole-word entries of the tokenizer's vocabulary; with `lowercase`, each word also in lower
    case and title case (see the module docstring for why casings get rows of their own).

    words (Sequence[str]): Words of the training and transfer texts.
    tokenizer: The teacher's tokenizer.
    hf_model: The teacher's Hugging Face (torch) model.
    source (str): "input": the mean of the word's wordpiece input embeddings
        (`wordpiece_mean_vectors`); "output": the teacher's last layer on the word alone
        (`output_word_vectors`).
    include_vocab (bool): Whether to add the whole-word entries of the WordPiece vocabulary.
    lowercase (bool): Whether the teacher is uncased, so that one vector serves all casings.
    RETURNS (Tuple[List[str], numpy.ndarray]): Keys and vectors.
    """
    if source not in SOURCES:
        raise ValueError(errors.E_VECTORS_SOURCE.format(source=source, sources=", ".join(SOURCES)))
    candidates = dict.fromkeys(words)
    if include_vocab:
        candidates.update(dict.fromkeys(wordpiece_vocab_words(tokenizer)))
    if lowercase:
        for word in list(candidates):
            candidates.update(dict.fromkeys((word.lower(), word.lower().title())))
    if source == "output":
        return output_word_vectors(list(candidates), tokenizer, hf_model)
    return wordpiece_mean_vectors(list(candidates), tokenizer, input_embeddings(hf_model))


def init_vectors(
    model: PathLike,
    texts: Sequence[PathLike],
    output_dir: PathLike,
    *,
    source: str = "input",
    lang: str = "en",
    include_vocab: bool = True,
    lowercase: Optional[bool] = None,
) -> VectorsSummary:
    """Write a spaCy pipeline folder holding static vectors built from a teacher's input
    embeddings, as `spacy init vectors` writes one; use it as `[initialize] vectors`.

    model (PathLike): The teacher: a trained spaCy teacher pipeline, a Hugging Face model
        folder or a hub name.
    texts (Sequence[PathLike]): `.spacy` files of the texts the student trains on (training and
        transfer texts; not dev or test).
    output_dir (PathLike): The folder to write.
    source (str): "input" (wordpiece input embeddings) or "output" (the teacher's last layer on
        each word alone; use the trained teacher pipeline); see `build_vectors`.
    lang (str): The language of the student.
    include_vocab (bool): Whether to add the whole-word entries of the WordPiece vocabulary.
    lowercase (Optional[bool]): Whether the teacher is uncased (rows are added for the lower-
        and title-cased forms); None reads it from the tokenizer (`do_lower_case`).
    RETURNS (VectorsSummary): The folder written and the counts of rows and covered words.
    """
    tokenizer, hf_model = load_teacher_model(model)
    if lowercase is None:
        lowercase = bool(getattr(tokenizer, "do_lower_case", True))
    words = corpus_words(texts, lang=lang)
    keys, data = build_vectors(
        words, tokenizer, hf_model, source=source, include_vocab=include_vocab, lowercase=lowercase
    )
    nlp = spacy.blank(lang)
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=keys)
    output_dir = Path(output_dir)
    nlp.to_disk(output_dir)
    kept = set(keys)
    return VectorsSummary(
        output_dir=output_dir,
        rows=len(keys),
        width=int(data.shape[1]),
        corpus_words=len(words),
        corpus_words_with_vector=sum(1 for w in words if w in kept),
    )
