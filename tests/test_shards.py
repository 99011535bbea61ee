import os

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Corpus

from distill_spacy.data import read_texts
from distill_spacy.shards import ShardWriter, count_docs, docbin_paths, iter_docs

TEXTS = [f"text number {i}" for i in range(23)]


def write(path, texts, shard_size):
    nlp = spacy.blank("en")
    with ShardWriter(path, shard_size) as writer:
        for text in texts:
            doc = nlp.make_doc(text)
            doc.cats = {"a": 1.0, "b": 0.0}
            writer.add(doc)
        writer.commit({path.with_suffix(".labels.json"): "{}\n"})
    return writer


def test_shards_are_read_as_one_corpus(tmp_path):
    path = tmp_path / "transfer.spacy"
    writer = write(path, TEXTS, 10)
    assert writer.n_docs == 23 and writer.n_shards == 3
    assert [p.name for p in docbin_paths(path)] == ["part-00000.spacy", "part-00001.spacy", "part-00002.spacy"]
    assert count_docs(path) == 23
    nlp = spacy.blank("en")
    assert [d.text for d in iter_docs(path, nlp.vocab)] == TEXTS
    assert [eg.reference.text for eg in Corpus(path)(nlp)] == TEXTS  # what `spacy train` reads
    assert read_texts(path) == TEXTS
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o777 & ~umask  # a folder as mkdir makes it


def test_an_empty_set_is_one_empty_shard(tmp_path):
    writer = write(tmp_path / "t.spacy", [], 10)
    assert writer.n_shards == 1 and count_docs(tmp_path / "t.spacy") == 0


def test_commit_replaces_an_older_single_file(tmp_path):
    path = tmp_path / "transfer.spacy"
    DocBin(docs=[spacy.blank("en")("old")]).to_disk(path)
    write(path, TEXTS[:3], 10)
    assert path.is_dir() and count_docs(path) == 3


def test_a_failure_leaves_the_previous_output(tmp_path):
    path = tmp_path / "transfer.spacy"
    write(path, TEXTS[:3], 10)
    nlp = spacy.blank("en")
    with pytest.raises(RuntimeError):
        with ShardWriter(path, 2) as writer:
            for text in TEXTS:
                writer.add(nlp.make_doc(text))
            raise RuntimeError("disk full")
    assert count_docs(path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transfer.labels.json", "transfer.spacy"]
