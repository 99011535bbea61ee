import shutil

import numpy
import pytest
import spacy

from distill_spacy import label
from distill_spacy.label import LabelCache, label_texts, one_hot, teacher_fingerprint

TEXTS = ["great sound", "awful battery", "would buy again", "broke fast", "love it", "poor quality", "great sound"]


def test_label_texts_are_log_probabilities(tiny_teacher, tmp_path):
    nlp = spacy.load(tiny_teacher)
    labels = nlp.get_pipe("textcat").labels
    cache = LabelCache(tmp_path / "cache.sqlite", teacher_fingerprint(tiny_teacher), labels)
    logprobs = label_texts(nlp, TEXTS, cache, batch_size=2, progress=False)
    assert logprobs.shape == (len(TEXTS), 2)
    assert numpy.exp(logprobs).sum(axis=1) == pytest.approx(numpy.ones(len(TEXTS)), abs=1e-5)
    for text, row in zip(TEXTS, logprobs):
        cats = nlp(text).cats
        assert numpy.exp(row) == pytest.approx([cats[label] for label in labels], abs=1e-5)
    assert len(cache) == len(set(TEXTS))  # the repeated text is labelled once


def test_label_cache_resumes_after_interruption(tiny_teacher, tmp_path, monkeypatch):
    nlp = spacy.load(tiny_teacher)
    labels = nlp.get_pipe("textcat").labels
    fingerprint = teacher_fingerprint(tiny_teacher)
    expected = label_texts(nlp, TEXTS, LabelCache(tmp_path / "full.sqlite", fingerprint, labels), progress=False)

    calls = []
    real = label.teacher_logprobs

    def interrupted(nlp, texts, labels):
        calls.append(list(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(nlp, texts, labels)

    monkeypatch.setattr(label, "teacher_logprobs", interrupted)
    path = tmp_path / "cache.sqlite"
    with pytest.raises(KeyboardInterrupt):
        label_texts(nlp, TEXTS, LabelCache(path, fingerprint, labels), batch_size=2, progress=False)
    assert len(LabelCache(path, fingerprint, labels)) == 4  # two finished batches, nothing of the third
    calls.clear()
    monkeypatch.setattr(label, "teacher_logprobs", real)
    resumed = label_texts(nlp, TEXTS, LabelCache(path, fingerprint, labels), batch_size=2, progress=False)
    assert resumed == pytest.approx(expected, abs=1e-6)
    # A changed teacher does not see the old entries.
    assert len(LabelCache(path, "another-teacher", labels)) == 0


def test_fingerprint_changes_with_the_teacher(tiny_teacher, tmp_path):
    copy = shutil.copytree(tiny_teacher, tmp_path / "copy")
    assert teacher_fingerprint(copy) == teacher_fingerprint(tiny_teacher)
    (copy / "meta.json").write_text((copy / "meta.json").read_text() + " ", encoding="utf8")
    assert teacher_fingerprint(copy) != teacher_fingerprint(tiny_teacher)


def transfer_inputs(tmp_path):
    """A gold train DocBin (corpus/train.spacy), a transfer set of four unlabelled texts, and the
    path where a test writes its calibration.json."""
    import json

    from distill_spacy.data import preprocess

    csv = tmp_path / "train.csv"
    csv.write_text("text,label\ngreat sound,positive\nbroke fast,negative\n", encoding="utf8")
    preprocess({"train": csv, "dev": csv}, tmp_path / "corpus")
    transfer = tmp_path / "transfer.jsonl"
    transfer.write_text("".join(json.dumps({"text": t, "source": "unlabelled"}) + "\n" for t in TEXTS[:4]), encoding="utf8")
    return transfer, tmp_path / "calibration.json"


def test_label_transfer_set_applies_the_temperature(tiny_teacher, tmp_path):
    from distill_spacy.calibration import Calibration, softmax_at
    from distill_spacy.label import label_transfer_set
    from distill_spacy.shards import iter_docs

    transfer, calibration = transfer_inputs(tmp_path)
    Calibration(0.01, "dev", 2, 1.0, 0.5, 0.5, 0.1, 1.0).to_disk(calibration)
    cache = tmp_path / "cache.sqlite"
    plain = label_transfer_set(tiny_teacher, transfer, tmp_path / "corpus" / "train.spacy", tmp_path / "a.spacy", cache)
    sharp = label_transfer_set(tiny_teacher, transfer, tmp_path / "corpus" / "train.spacy", tmp_path / "b.spacy", cache,
                               calibration=calibration)
    assert plain.temperature == 1.0 and sharp.temperature == 0.01
    assert sharp.from_cache == 4  # a new temperature needs no relabelling
    assert sharp.mean_max_probability_raw == pytest.approx(plain.mean_max_probability, abs=1e-6)
    nlp = spacy.load(tiny_teacher)
    labels = list(nlp.get_pipe("textcat").labels)
    docs = list(iter_docs(tmp_path / "b.spacy", nlp.vocab))
    for doc in docs:
        raw = numpy.log([[nlp(doc.text).cats[l] for l in labels]])
        assert [doc.cats[l] for l in labels] == pytest.approx(softmax_at(raw, 0.01)[0], abs=1e-4)


def test_interrupted_labelling_says_what_was_saved(tiny_teacher, tmp_path, monkeypatch, capsys):
    nlp = spacy.load(tiny_teacher)
    labels = nlp.get_pipe("textcat").labels
    calls = []
    real = label.teacher_logprobs

    def interrupted(nlp, texts, labels):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(nlp, texts, labels)

    monkeypatch.setattr(label, "teacher_logprobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        label_texts(nlp, TEXTS, LabelCache(tmp_path / "c.sqlite", "t", labels), batch_size=2, progress=False)
    out = capsys.readouterr().out
    assert "Interrupted: 2 newly labelled texts are saved in the label cache" in out
    assert "Run the same command again" in out


def test_label_transfer_set_does_not_soften_an_overconfident_teacher(tiny_teacher, tmp_path):
    from distill_spacy.calibration import Calibration
    from distill_spacy.label import label_transfer_set

    transfer, calibration = transfer_inputs(tmp_path)
    Calibration(3.0, "dev", 2, 1.0, 0.5, 0.5, 0.1, 1.0).to_disk(calibration)
    summary = label_transfer_set(tiny_teacher, transfer, tmp_path / "corpus" / "train.spacy", tmp_path / "a.spacy",
                                 tmp_path / "cache.sqlite", calibration=calibration)
    assert summary.fitted_temperature == 3.0 and summary.temperature == 1.0
    assert summary.mean_max_probability == pytest.approx(summary.mean_max_probability_raw)


@pytest.mark.parametrize("cats,expected", [
    ({"a": 0.2, "b": 0.7, "c": 0.1}, {"a": 0.0, "b": 1.0, "c": 0.0}),
    ({"a": 0.5, "b": 0.5}, {"a": 1.0, "b": 0.0}),  # a tie goes to the first label
])
def test_one_hot(cats, expected):
    assert one_hot(cats) == expected
