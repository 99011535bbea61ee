"""The soft-label student: validation, loss and gradient, training, IO, the stock conversion."""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import numpy
import pytest
import spacy
from numpy.testing import assert_allclose, assert_almost_equal
from spacy import util
from spacy.cli.package import get_third_party_dependencies
from spacy.lang.en import English
from spacy.language import Language
from spacy.pipeline import TextCategorizer
from spacy.tokens import DocBin
from spacy.training import Corpus, Example
from thinc.api import Adam, Config, fix_random_seed, set_dropout_rate

from test_losses import finite_difference  # tests/ is on sys.path (pytest rootdir)

from distill_spacy import student
from distill_spacy.losses import distillation_loss
from distill_spacy.student import (
    FACTORY,
    GOLD_KEY,
    LOSS_NAME,
    DistillTextCategorizer,
    convert_to_stock,
    get_gold_label,
    set_gold_label,
    stock_config,
)

ROOT = Path(__file__).parent.parent

# Teacher probabilities, as the `label` step writes them into doc.cats.
TRAIN_DATA_SOFT = [
    ("I'm so happy.", {"POSITIVE": 0.8, "NEGATIVE": 0.2}),
    ("I'm so angry", {"POSITIVE": 0.1, "NEGATIVE": 0.9}),
]
# (text, teacher probabilities, gold label or None for an augmented text)
TRAIN_DATA_3 = [
    ("the sound is great", {"POS": 0.7, "NEU": 0.2, "NEG": 0.1}, "POS"),
    ("it broke after a week", {"POS": 0.05, "NEU": 0.15, "NEG": 0.8}, None),
    ("it is fine I guess", {"POS": 0.3, "NEU": 0.6, "NEG": 0.1}, "NEU"),
]

BOW_CONFIG = """
[model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
length = 4096
ngram_size = 1
no_output_layer = false
"""
CNN_CONFIG = """
[model]
@architectures = "spacy.TextCatReduce.v1"
exclusive_classes = true
use_reduce_first = false
use_reduce_last = false
use_reduce_max = false
use_reduce_mean = true

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 3
subword_features = true
"""
ENSEMBLE_CONFIG = """
[model]
@architectures = "spacy.TextCatEnsemble.v2"

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 3
subword_features = true

[model.linear_model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
length = 4096
ngram_size = 1
no_output_layer = false
"""
ARCHITECTURES = {"bow": BOW_CONFIG, "cnn": CNN_CONFIG, "ensemble": ENSEMBLE_CONFIG}

# The lines setup.cfg needs under [options.entry_points].
ENTRY_POINTS = {
    "spacy_factories": ("distill_textcat", "distill_spacy.student:make_distill_textcat"),
    "spacy_misc": (
        "distill_spacy.DistillationLoss.v1",
        "distill_spacy.student:configure_distillation_loss",
    ),
}


def make_examples_soft(nlp: Language) -> List[Example]:
    return [Example.from_dict(nlp.make_doc(t), {"cats": cats}) for t, cats in TRAIN_DATA_SOFT]


def make_examples_3(nlp: Language) -> List[Example]:
    examples = []
    for text, cats, gold in TRAIN_DATA_3:
        eg = Example.from_dict(nlp.make_doc(text), {"cats": cats})
        if gold is not None:
            set_gold_label(eg.reference, gold)
        examples.append(eg)
    return examples


def add_student(nlp: Language, arch: str, **loss) -> DistillTextCategorizer:
    config = {"model": Config().from_str(ARCHITECTURES[arch])["model"]}
    if loss:
        config["loss"] = loss
    return nlp.add_pipe(FACTORY, config=config)


def train_student(
    arch: str, n_iter: int = 100, gold: Optional[List[str]] = None, **loss
) -> Language:
    fix_random_seed(0)
    nlp = English()
    add_student(nlp, arch, **loss)
    examples = make_examples_soft(nlp)
    for eg, label in zip(examples, gold or []):
        set_gold_label(eg.reference, label)
    nlp.initialize(get_examples=lambda: examples)
    optimizer = Adam(0.01)  # 10x spaCy's default, to overfit two texts in a few steps
    for _ in range(n_iter):
        nlp.update(examples, sgd=optimizer)
    return nlp


# --- the component accepts what the stock textcat rejects -------------------------------------


def test_stock_textcat_rejects_soft_labels():
    nlp = English()
    nlp.add_pipe("textcat")
    examples = make_examples_soft(nlp)
    with pytest.raises(ValueError, match="E851"):
        nlp.initialize(get_examples=lambda: examples)


def test_student_accepts_soft_labels():
    nlp = English()
    textcat = nlp.add_pipe(FACTORY)
    assert isinstance(textcat, DistillTextCategorizer)
    assert isinstance(textcat, TextCategorizer)
    examples = make_examples_soft(nlp)
    optimizer = nlp.initialize(get_examples=lambda: examples)
    losses = nlp.update(examples, sgd=optimizer)
    assert textcat.labels == ("POSITIVE", "NEGATIVE")
    assert losses[FACTORY] > 0


@pytest.mark.parametrize(
    "cats,message",
    [
        ({}, "has no cats"),
        ({"POSITIVE": 1.2, "NEGATIVE": -0.2}, "not a probability"),
        ({"POSITIVE": 2.3, "NEGATIVE": -1.1}, "not a probability"),  # logits, not probabilities
        ({"POSITIVE": float("nan"), "NEGATIVE": 0.5}, "not a probability"),
        ({"POSITIVE": 0.7, "NEGATIVE": 0.7}, "sum to 1.4000"),
        ({"POSITIVE": 0.3, "NEGATIVE": 0.3}, "sum to 0.6000"),
    ],
)
def test_student_rejects_bad_soft_labels(cats, message):
    nlp = English()
    nlp.add_pipe(FACTORY)
    good = make_examples_soft(nlp)
    nlp.initialize(get_examples=lambda: good)
    bad = Example.from_dict(nlp.make_doc("I'm so happy."), {"cats": cats})
    with pytest.raises(ValueError, match=message):
        nlp.update([bad])


def test_student_rejects_unknown_gold_label():
    nlp = English()
    nlp.add_pipe(FACTORY)
    examples = make_examples_soft(nlp)
    nlp.initialize(get_examples=lambda: examples)
    set_gold_label(examples[0].reference, "POSTIVE")
    with pytest.raises(ValueError, match="'POSTIVE'.*not one of the component's labels"):
        nlp.update(examples)
    examples[0].reference.user_data[GOLD_KEY] = 1
    with pytest.raises(ValueError, match="not a label name"):
        nlp.update(examples)


def test_student_rejects_non_softmax_model():
    nlp = English()
    bow = BOW_CONFIG.replace("no_output_layer = false", "no_output_layer = true")
    model = Config().from_str(bow)
    nlp.add_pipe(FACTORY, config={"model": model["model"]})
    examples = make_examples_soft(nlp)
    optimizer = nlp.initialize(get_examples=lambda: examples)
    with pytest.raises(ValueError, match="not a softmax"):
        nlp.update(examples, sgd=optimizer)


def test_gold_label_survives_docbin_and_corpus(tmp_path):
    nlp = English()
    docs = []
    for text, cats, gold in TRAIN_DATA_3:
        doc = nlp.make_doc(text)
        doc.cats = cats
        if gold is not None:
            set_gold_label(doc, gold)
        docs.append(doc)
    DocBin(docs=docs, attrs=[], store_user_data=True).to_disk(tmp_path / "transfer.spacy")
    examples = list(Corpus(tmp_path / "transfer.spacy")(nlp))
    assert [get_gold_label(eg.reference) for eg in examples] == [g for _, _, g in TRAIN_DATA_3]
    assert [eg.reference.cats for eg in examples] == [c for _, c, _ in TRAIN_DATA_3]


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss,message",
    [
        ({"kind": "ce"}, "(?s)unknown loss kind 'ce'.*one of: kl, mse_probs, mse_logprobs"),
        ({"temperature": 0.0}, "temperature is 0.0; it must be a number above 0"),
        ({"temperature": -2.0}, "temperature is -2.0"),
        ({"kind": "mse_probs", "temperature": 2.0}, "only applies to the loss kind 'kl'"),
        ({"alpha": -0.1}, "alpha is -0.1; it must lie in"),
        ({"alpha": 1.5}, "alpha is 1.5; it must lie in"),
    ],
)
def test_bad_loss_settings(loss, message):
    nlp = English()
    with pytest.raises(ValueError, match=message):
        nlp.add_pipe(FACTORY, config={"loss": loss})


def test_loss_settings_in_config():
    nlp = English()
    nlp.add_pipe(FACTORY, config={"loss": {"kind": "kl", "temperature": 3, "alpha": 0.25}})
    loss = nlp.config["components"][FACTORY]["loss"]
    assert loss == {"@misc": LOSS_NAME, "kind": "kl", "temperature": 3.0, "alpha": 0.25}


# --- registry and entry points ----------------------------------------------------------------


def test_registry():
    assert Language.has_factory(FACTORY)
    assert util.registry.misc.get(LOSS_NAME) is student.configure_distillation_loss
    nlp = spacy.blank("en")
    assert isinstance(nlp.add_pipe(FACTORY), DistillTextCategorizer)


@pytest.mark.skipif(
    "distill_textcat =" not in (ROOT / "setup.cfg").read_text(encoding="utf8"),
    reason="ENABLE: runs once setup.cfg declares ENTRY_POINTS (then `pip install -e .`)",
)
def test_entry_points():
    """Every entry point resolves in a process that never imports distill_spacy itself."""
    script = f"""
import importlib.metadata as md
import spacy
expected = {ENTRY_POINTS!r}
for group, (name, value) in expected.items():
    found = {{ep.name: ep.value for ep in md.entry_points(group=group)}}
    assert found.get(name) == value, (group, name, found.get(name), "reinstall: pip install -e .")
nlp = spacy.blank("en")
textcat = nlp.add_pipe("distill_textcat")
assert type(textcat).__name__ == "DistillTextCategorizer", type(textcat)
assert spacy.registry.misc.get("distill_spacy.DistillationLoss.v1")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_get_loss_reads_teacher_and_gold():
    nlp = English()
    textcat = add_student(nlp, "bow", kind="kl", temperature=2.0, alpha=0.5)
    examples = make_examples_3(nlp)
    nlp.initialize(get_examples=lambda: examples)
    assert textcat.labels == ("POS", "NEU", "NEG")
    scores = numpy.asarray([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.25, 0.6, 0.15]], dtype="f")
    loss, d_scores = textcat.get_loss(examples, scores)
    teacher = numpy.asarray([[c[k] for k in textcat.labels] for _, c, _ in TRAIN_DATA_3], dtype="f")
    gold = numpy.asarray([[1, 0, 0], [0, 0, 0], [0, 1, 0]], dtype="f")
    has_gold = numpy.asarray([[1], [0], [1]], dtype="f")
    expected_loss, expected_grad = distillation_loss(
        scores, teacher, gold, has_gold, kind="kl", temperature=2.0, alpha=0.5
    )
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    # The bag-of-words model ends in softmax_activation: it takes d_loss/d_probabilities.
    assert_allclose(d_scores, expected_grad, rtol=1e-5, atol=1e-6)


def parameter_gradients(textcat: DistillTextCategorizer, examples: List[Example]):
    """The gradient of the loss w.r.t. the output layer's bias: backpropagated and numeric."""
    model = textcat.model
    set_dropout_rate(model, 0.0)
    docs = [eg.predicted for eg in examples]
    layer = model.get_ref("output_layer")
    scores, backprop = model.begin_update(docs)
    _, d_scores = textcat.get_loss(examples, scores)
    backprop(d_scores)
    analytic = layer.get_grad("b").copy()
    bias = layer.get_param("b").copy()

    def loss_at(b):
        layer.set_param("b", b.astype("f"))
        return textcat.get_loss(examples, model.predict(docs))[0]

    numeric = finite_difference(loss_at, bias.astype("float64"), h=1e-2)
    layer.set_param("b", bias)
    return analytic, numeric


def trained_for_gradient_check(arch: str) -> Tuple[DistillTextCategorizer, List[Example]]:
    fix_random_seed(0)
    nlp = English()
    textcat = add_student(nlp, arch, kind="kl", temperature=2.0, alpha=0.5)
    examples = make_examples_3(nlp)
    nlp.initialize(get_examples=lambda: examples)
    optimizer = Adam(0.01)
    for _ in range(3):  # away from the zero-initialised output layer
        nlp.update(examples, sgd=optimizer)
    return textcat, examples


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_parameter_gradient_through_model(arch):
    """What get_loss returns, backpropagated through each kind of output layer, is the gradient
    of the loss: the BOW model's softmax_activation takes d/d_probabilities, the CNN's and the
    ensemble's thinc Softmax layer d/d_logits."""
    analytic, numeric = parameter_gradients(*trained_for_gradient_check(arch))
    assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3)


def test_softmax_layer_needs_logit_gradient(monkeypatch):
    """Without the conversion to d/d_logits, the CNN's gradient would be wrong."""
    textcat, examples = trained_for_gradient_check("cnn")
    monkeypatch.setattr(student, "_output_layer_takes_logit_gradient", lambda model: False)
    analytic, numeric = parameter_gradients(textcat, examples)
    assert not numpy.allclose(analytic, numeric, rtol=2e-2, atol=2e-3)


# --- training, IO and the stock conversion ----------------------------------------------------


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_overfitting_IO(arch, tmp_path):
    nlp = train_student(arch)
    texts = [text for text, _ in TRAIN_DATA_SOFT]
    # The student learns the teacher's probabilities, not its argmax.
    for doc, (_, teacher) in zip(nlp.pipe(texts), TRAIN_DATA_SOFT):
        for label, p in teacher.items():
            assert doc.cats[label] == pytest.approx(p, abs=0.02)
    nlp.to_disk(tmp_path)
    nlp2 = util.load_model_from_path(tmp_path)
    assert isinstance(nlp2.get_pipe(FACTORY), DistillTextCategorizer)
    more_texts = texts + ["Just a sentence.", "I am happy.", "I eat ham."]
    for doc, doc2 in zip(nlp.pipe(more_texts), nlp2.pipe(more_texts)):
        for label in doc.cats:
            assert_almost_equal(doc.cats[label], doc2.cats[label], decimal=5)


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_alpha_pulls_towards_gold(alpha):
    # The teacher says 0.8 / 0.1 for POSITIVE; the gold labels say 1.0 / 0.0. At the minimum of
    # (1 - alpha) KL(p || q) - alpha log q_gold, q = (1 - alpha) p + alpha gold.
    nlp = train_student("bow", n_iter=300, gold=["POSITIVE", "NEGATIVE"], alpha=alpha)
    docs = list(nlp.pipe([text for text, _ in TRAIN_DATA_SOFT]))
    expected = [(1 - alpha) * 0.8 + alpha, (1 - alpha) * 0.1]
    assert [doc.cats["POSITIVE"] for doc in docs] == pytest.approx(expected, abs=0.02)


def test_stock_config():
    nlp = English()
    add_student(nlp, "bow", kind="kl", temperature=2.0, alpha=0.5)
    config = stock_config(nlp.config)
    component = config["components"][FACTORY]
    assert component["factory"] == "textcat"
    assert set(component) == {"factory", "model", "threshold", "scorer"}
    assert component["model"] == nlp.config["components"][FACTORY]["model"]
    assert nlp.config["components"][FACTORY]["factory"] == FACTORY  # the input is not changed
    # What `spacy package` would list as the package's requirements besides spaCy.
    assert get_third_party_dependencies(nlp.config) == ["distill_spacy>=0.1.0,<0.2.0"]
    assert get_third_party_dependencies(config) == []


def test_stock_config_refuses_remaining_distill_function():
    nlp = English()
    add_student(nlp, "bow")
    config = nlp.config.copy()
    config["components"][FACTORY]["scorer"] = {"@misc": LOSS_NAME}
    with pytest.raises(ValueError, match=f"components.{FACTORY}.scorer.@misc"):
        stock_config(config)


# Runs in a process that stands in for a venv with spaCy alone: `import distill_spacy` fails,
# and its entry points are hidden (spaCy imports every `spacy_factories` entry point on start).
# It loads each folder given and prints, per folder, the cats of the texts or the error.
SPACY_ONLY = """
import importlib.metadata as md
import json
import sys

sys.modules["distill_spacy"] = None
_kept = md.EntryPoints(
    ep
    for dist in md.distributions()
    for ep in dist.entry_points
    if not ep.value.startswith("distill_spacy")
)
md.entry_points = lambda **params: _kept.select(**params) if params else _kept

import catalogue
import spacy
from spacy.pipeline import TextCategorizer

assert not any(ep.value.startswith("distill_spacy") for ep in catalogue.AVAILABLE_ENTRY_POINTS)
texts, paths = json.loads(sys.argv[1]), sys.argv[2:]
results = {}
for path in paths:
    try:
        nlp = spacy.load(path)
    except Exception as e:
        results[path] = {"error": f"{type(e).__name__}: {e}"}
        continue
    assert all(type(pipe) is TextCategorizer for _, pipe in nlp.pipeline), nlp.pipeline
    results[path] = {"cats": [doc.cats for doc in nlp.pipe(texts)]}
assert sys.modules["distill_spacy"] is None
print(json.dumps(results))
"""
TEXTS = [text for text, _ in TRAIN_DATA_SOFT] + ["Just a sentence.", "I eat ham."]


@pytest.fixture(scope="module")
def spacy_only_results(tmp_path_factory):
    """Train a student per architecture, convert it, and load every converted pipeline plus
    one unconverted student in a single spaCy-only process (a process costs ~10 s here)."""
    root = tmp_path_factory.mktemp("students")
    students = {arch: train_student(arch, n_iter=20) for arch in ARCHITECTURES}
    paths = {arch: convert_to_stock(nlp, root / arch) for arch, nlp in students.items()}
    paths["unconverted"] = root / "unconverted"
    students["bow"].to_disk(paths["unconverted"])
    # Declare ENTRY_POINTS through a stand-in distribution, as if setup.cfg already did: the
    # process must hide them too, or spaCy's start-up would try to import distill_spacy.
    dist_info = root / "site" / "distill_spacy_stand_in-0.0.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: distill-spacy-stand-in\nVersion: 0.0.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n{name} = {value}\n" for group, (name, value) in ENTRY_POINTS.items())
    )
    python_path = os.pathsep.join([str(root / "site"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": python_path}
    result = subprocess.run(
        [sys.executable, "-c", SPACY_ONLY, json.dumps(TEXTS), *map(str, paths.values())],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    return students, {name: loaded[str(path)] for name, path in paths.items()}


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_convert_to_stock_loads_without_distill_spacy(arch, spacy_only_results):
    students, results = spacy_only_results
    assert "error" not in results[arch], results[arch]["error"]
    for doc, cats in zip(students[arch].pipe(TEXTS), results[arch]["cats"]):
        assert set(cats) == set(doc.cats)
        for label in cats:
            assert_almost_equal(cats[label], doc.cats[label], decimal=5)


def test_unconverted_student_needs_distill_spacy(spacy_only_results):
    """The control for the test above: the student itself does not load there."""
    _, results = spacy_only_results
    assert FACTORY in results["unconverted"]["error"]


def test_convert_to_stock_from_folder(tmp_path):
    nlp = train_student("bow", n_iter=20)
    nlp.to_disk(tmp_path / "student")
    out = convert_to_stock(tmp_path / "student", tmp_path / "stock")
    stock = spacy.load(out)
    assert stock.get_pipe_meta(FACTORY).factory == "textcat"
    assert type(stock.get_pipe(FACTORY)) is TextCategorizer
    assert stock("I'm so happy.").cats == pytest.approx(nlp("I'm so happy.").cats, abs=1e-6)


# --- early stopping cannot pick the first checkpoint ---------------------------------------------


def test_warmup_hides_dev_scores_until_enough_examples(tmp_path):
    nlp = English()
    nlp.add_pipe(FACTORY, config={
        "model": Config().from_str(ARCHITECTURES["bow"])["model"], "warmup_examples": 5,
    })
    examples = make_examples_soft(nlp)  # two texts
    nlp.initialize(get_examples=lambda: examples)
    gold = [Example.from_dict(nlp.make_doc(eg.reference.text), {"cats": {
        label: float(value == max(eg.reference.cats.values())) for label, value in eg.reference.cats.items()
    }}) for eg in examples]
    optimizer = Adam(0.01)
    nlp.update(examples, sgd=optimizer)  # 2 examples seen
    assert nlp.evaluate(gold)["cats_score"] == 0.0
    for _ in range(2):
        nlp.update(examples, sgd=optimizer)  # 6 examples seen
    assert nlp.evaluate(gold)["cats_score"] > 0.0
    # A saved and reloaded pipeline is scored as it is.
    nlp.to_disk(tmp_path / "student")
    assert spacy.load(tmp_path / "student").evaluate(gold)["cats_score"] > 0.0


def test_negative_warmup_is_rejected():
    with pytest.raises(ValueError, match="warmup_examples"):
        English().add_pipe(FACTORY, config={"warmup_examples": -1})


# The size rule of the bag-of-words hash table


@pytest.mark.parametrize(
    "n_labels,length", [(1, 2**18), (2, 2**18), (7, 2**18), (8, 2**18), (9, 2**17), (12, 2**17), (77, 2**14), (150, 2**13), (5000, 1024)]
)
def test_bow_length_follows_the_label_count(n_labels, length):
    assert student.bow_length(n_labels) == length
    # within the budget (but for the floor of 1024 rows), and never above spaCy's default
    assert length * n_labels <= student.WEIGHTS_BUDGET or length == 1024
    assert length <= 262144


def test_bow_length_rejects_no_labels():
    with pytest.raises(ValueError, match="n_labels"):
        student.bow_length(0)


@pytest.mark.parametrize(
    "arch,keys",
    [("bow", ["components.textcat.model.length"]),
     ("ensemble", ["components.textcat.model.linear_model.length"]),
     ("cnn", [])],
)
def test_length_overrides_find_every_bow_table(arch, keys):
    config = Config().from_disk(ROOT / "configs" / f"student_{arch}.cfg", interpolate=False)
    overrides = student.length_overrides(config, 77)
    assert sorted(overrides) == keys
    assert all(v == 2**14 for v in overrides.values())


@pytest.mark.parametrize("n_labels", [77, 150])
def test_student_on_many_labels_is_small(tmp_path, n_labels):
    """The sized BOW student for 77 or 150 labels takes about 5 MB on disk (its wheel, a zip of the
    folder, less: 4.5 MB for banking77); spaCy's default table would take 81 and 158 MB."""
    config = Config().from_disk(ROOT / "configs" / "student_bow.cfg")
    for key, value in student.length_overrides(Config().from_disk(ROOT / "configs" / "student_bow.cfg", interpolate=False), n_labels).items():
        config["components"]["textcat"]["model"][key.rsplit(".", 1)[-1]] = value
    nlp = util.load_model_from_config(config, auto_fill=True)
    labels = [f"intent_{i}" for i in range(n_labels)]
    examples = [Example.from_dict(nlp.make_doc(f"text {label}"), {"cats": {l: float(l == label) for l in labels}}) for label in labels]
    nlp.initialize(lambda: examples)
    nlp.to_disk(tmp_path / "student")
    size = sum(p.stat().st_size for p in (tmp_path / "student").rglob("*") if p.is_file())
    assert size < 5_300_000
