"""Static vectors built from a (tiny, random) teacher's embeddings."""
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from distill_spacy.vectors import (
    build_vectors,
    corpus_words,
    init_vectors,
    load_teacher_model,
    wordpiece_mean_vectors,
    wordpiece_vocab_words,
)

CONFIGS = Path(__file__).parent.parent / "configs"
TRAIN_TEXTS = ["Great product, works fine.", "Awful battery; broke again!"]
# A dev/test text: its words must not reach the table unless the WordPiece vocab holds them.
HELD_OUT_WORD = "zyxq"


@pytest.fixture(scope="module")
def teacher(tiny_bert):
    return load_teacher_model(str(tiny_bert))


@pytest.fixture
def train_docbin(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "train.spacy"
    DocBin(docs=[nlp.make_doc(t) for t in TRAIN_TEXTS]).to_disk(path)
    return path


def test_vocab_words_skip_specials_and_continuations(teacher):
    tokenizer, _ = teacher
    words = wordpiece_vocab_words(tokenizer)
    assert "great" in words and "a" in words
    assert not any(w.startswith("##") or w.startswith("[") for w in words)


def test_word_vector_is_mean_of_wordpiece_embeddings(teacher):
    tokenizer, hf_model = teacher
    embeddings = hf_model.get_input_embeddings().weight.detach().numpy()
    # "greatz" is not in the tiny vocab: it splits into "great" + "##z".
    ids = tokenizer("greatz", add_special_tokens=False)["input_ids"]
    assert len(ids) == 2
    keys, data = wordpiece_mean_vectors(["great", "greatz"], tokenizer, embeddings)
    assert keys == ["great", "greatz"]
    numpy.testing.assert_allclose(data[0], embeddings[tokenizer.convert_tokens_to_ids("great")])
    numpy.testing.assert_allclose(data[1], embeddings[ids].mean(axis=0), rtol=1e-6)


def test_unknown_pieces_get_no_row(teacher):
    tokenizer, hf_model = teacher
    embeddings = hf_model.get_input_embeddings().weight.detach().numpy()
    keys, data = wordpiece_mean_vectors(["great", "€€"], tokenizer, embeddings)
    assert keys == ["great"] and data.shape == (1, embeddings.shape[1])


def test_mismatched_embeddings_raise(teacher):
    tokenizer, _ = teacher
    with pytest.raises(ValueError, match="wordpieces"):
        wordpiece_mean_vectors(["great"], tokenizer, numpy.zeros((3, 8), dtype="f"))


def test_corpus_words_are_spacy_tokens_as_spelled(train_docbin):
    words = corpus_words([train_docbin])
    assert words[:4] == ["Great", "product", ",", "works"]
    assert "Awful" in words and "awful" not in words


@pytest.mark.parametrize("source", ["input", "output"])
def test_build_vectors_shapes(teacher, source):
    tokenizer, hf_model = teacher
    keys, data = build_vectors(["Great", "greatz"], tokenizer, hf_model, source=source)
    assert keys[:2] == ["Great", "greatz"]
    assert {"great", "Greatz"} <= set(keys)  # the other casings of an uncased teacher's words
    assert len(keys) == len(set(keys)) == data.shape[0]
    assert data.shape[1] == hf_model.config.hidden_size
    assert numpy.isfinite(data).all()


def test_unknown_source_raises(teacher):
    tokenizer, hf_model = teacher
    with pytest.raises(ValueError, match="'avg'"):
        build_vectors(["great"], tokenizer, hf_model, source="avg")


@pytest.mark.parametrize("include_vocab", [True, False])
def test_init_vectors_writes_a_loadable_table(tiny_bert, train_docbin, tmp_path, include_vocab):
    out = tmp_path / "vectors"
    summary = init_vectors(str(tiny_bert), [train_docbin], out, include_vocab=include_vocab)
    # Every corpus word but ";", which the tiny WordPiece vocab lacks ([UNK]).
    assert summary.corpus_words_with_vector == summary.corpus_words - 1
    nlp = spacy.load(out)
    vectors = nlp.vocab.vectors
    assert vectors.shape == (summary.rows, 32)
    # The uncased teacher gives every casing the same vector, each under its own ORTH key.
    doc = nlp("Great great Awful awful")
    assert all(token.has_vector for token in doc)
    assert numpy.array_equal(doc[0].vector, doc[1].vector)
    assert numpy.array_equal(doc[2].vector, doc[3].vector)
    assert nlp.vocab.has_vector("money") == include_vocab  # a vocab word absent from the train texts
    assert not nlp.vocab.has_vector(HELD_OUT_WORD)


def test_init_vectors_feeds_a_student_with_static_vectors(tiny_bert, train_docbin, tmp_path):
    out = tmp_path / "vectors"
    init_vectors(str(tiny_bert), [train_docbin], out, include_vocab=False)
    config = spacy.util.load_config(CONFIGS / "student_bow.cfg")
    config["paths"]["vectors"] = str(out)
    config["components"]["textcat"]["model"] = {
        "@architectures": "spacy.TextCatReduce.v1",
        "exclusive_classes": True,
        "use_reduce_first": False,
        "use_reduce_last": False,
        "use_reduce_max": True,
        "use_reduce_mean": True,
        "nO": None,
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {
                "@architectures": "spacy.MultiHashEmbed.v2",
                "width": 16,
                "attrs": ["NORM"],
                "rows": [100],
                "include_static_vectors": True,
            },
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2",
                "width": 16,
                "depth": 1,
                "window_size": 1,
                "maxout_pieces": 2,
            },
        },
    }
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    examples = [
        Example.from_dict(nlp.make_doc(t), {"cats": {"positive": p, "negative": 1.0 - p}})
        for t, p in zip(TRAIN_TEXTS, (0.9, 0.2))
    ]
    nlp.initialize(lambda: examples)
    assert nlp.vocab.vectors.shape[1] == 32
    assert nlp.update(examples)["textcat"] > 0.0
