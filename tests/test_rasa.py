"""The Rasa component, driven through Rasa's own Python API in a separate Rasa venv.

Rasa cannot share a venv with the distillation stack, so the `rasa` tests run
examples/rasa/parse.py (train_nlu -> Agent.load -> parse_message) with the Python named by
DISTILL_RASA_PYTHON, a venv holding `rasa-pro[spacy]` (see README). They skip when it is unset.
The spaCy model is a tiny textcat built here and loaded by path, unless DISTILL_RASA_SPACY_MODEL
names one for the same intents (e.g. the packaged student, pip-installed into that venv).
"""
import ast
import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import spacy
from spacy.training import Example
from spacy.util import minibatch
from srsly.ruamel_yaml import YAML

from distill_spacy.data import read_records

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "rasa"
NLU = ROOT / "assets" / "intents" / "nlu.yml"
HELD_OUT = ROOT / "assets" / "intents" / "nlu_test.yml"
CLASSIFIER = "distill_spacy.rasa.SpacyTextcatIntentClassifier"
INTENTS = sorted({record.label for record in read_records(NLU)})
FEW_MESSAGES = ["where is my parcel?", "I want to speak to a person", "thanks a lot!"]


def test_nothing_in_distill_spacy_imports_rasa():
    """Only Rasa imports distill_spacy.rasa (by its dotted path in config.yml)."""
    sources = [*(ROOT / "distill_spacy").glob("*.py"), *(ROOT / "scripts").glob("*.py")]
    for path in sources:
        if path.name == "rasa.py" and path.parent.name == "distill_spacy":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
            else:
                continue
            assert not any("rasa" in name.split(".") for name in names), path


def test_importing_distill_spacy_imports_no_rasa():
    code = "import sys, distill_spacy; assert not [m for m in sys.modules if m.startswith('rasa')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- Through the real Rasa ------------------------------------------------------------------


@pytest.fixture(scope="session")
def rasa_python() -> str:
    python = os.environ.get("DISTILL_RASA_PYTHON")
    if not python:
        pytest.skip("DISTILL_RASA_PYTHON is unset: point it at the python of a rasa-pro venv")
    found = subprocess.run([python, "-c", "import rasa, spacy"], capture_output=True, text=True)
    assert found.returncode == 0, f"DISTILL_RASA_PYTHON={python} lacks rasa: {found.stderr}"
    return python


def rasa_env() -> Dict[str, str]:
    """The environment for the Rasa venv: this checkout's distill_spacy, no slow litellm import."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    litellm = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **litellm}


@pytest.fixture(scope="session")
def spacy_model(tmp_path_factory) -> str:
    """A spaCy textcat for the 12 intents: DISTILL_RASA_SPACY_MODEL, or a tiny one built here."""
    if os.environ.get("DISTILL_RASA_SPACY_MODEL"):
        return os.environ["DISTILL_RASA_SPACY_MODEL"]
    records = read_records(NLU)
    nlp = spacy.blank("en")
    bow = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2}
    textcat = nlp.add_pipe("textcat", config={"model": {**bow, "no_output_layer": False}})
    for intent in INTENTS:
        textcat.add_label(intent)
    cats = {intent: {i: float(i == intent) for i in INTENTS} for intent in INTENTS}
    examples = [Example.from_dict(nlp.make_doc(r.text), {"cats": cats[r.label]}) for r in records]
    random.Random(0).shuffle(examples)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):
        for batch in minibatch(examples, 16):
            nlp.update(batch, sgd=optimizer)
    path = tmp_path_factory.mktemp("intents_textcat")
    nlp.to_disk(path)
    return str(path)


def write_config(path: Path, classifier: Optional[Dict] = None, spacy_nlp: Optional[Dict] = None):
    """The example config.yml with settings of the classifier / SpacyNLP changed (None: drop)."""
    yaml = YAML()
    config = yaml.load((EXAMPLE / "config.yml").read_text(encoding="utf8"))
    for component in config["pipeline"]:
        changes = {"SpacyNLP": spacy_nlp, CLASSIFIER: classifier}.get(component["name"]) or {}
        for key, value in changes.items():
            if value is None:
                component.pop(key, None)
            else:
                component[key] = value
    with path.open("w", encoding="utf8") as f:
        yaml.dump(config, f)
    return path


def parse(python: str, tmp_path: Path, model: str, config: Path, messages: Optional[List] = None):
    """Run examples/rasa/parse.py: (returncode, output with whitespace collapsed, results)."""
    args = ["--model", model, "--config", str(config), "--json", str(tmp_path / "out.json")]
    if messages is not None:
        (tmp_path / "messages.txt").write_text("\n".join(messages), encoding="utf8")
        args += ["--messages", str(tmp_path / "messages.txt")]
    cmd = [python, str(EXAMPLE / "parse.py"), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=rasa_env())
    output = " ".join((done.stdout + done.stderr).split())
    out = tmp_path / "out.json"
    results = json.loads(out.read_text())["results"] if out.exists() else []
    return done.returncode, output, results


# Run in the Rasa venv: distill_spacy.rasa imports Rasa. Expected values computed by hand.
UNIT_CHECKS = """
import spacy
from distill_spacy.rasa import find_text_classifier, rank_intents

def ranked(*args, **kwargs):
    intent, ranking = rank_intents(*args, **kwargs)
    assert intent == (ranking[0] if ranking else {"name": None, "confidence": 0.0})
    return [(r["name"], round(r["confidence"], 9)) for r in ranking]

def message(*args):
    try:
        find_text_classifier(*args)
    except ValueError as e:
        return str(e)
    raise AssertionError(f"no error for {args}")

cats = {"a": 0.2, "b": 0.5, "c": 0.3}
assert ranked(cats, "abc", ranking_length=0) == [("b", 0.5), ("c", 0.3), ("a", 0.2)]
assert ranked(cats, "abc", ranking_length=2) == [("b", 0.5), ("c", 0.3)]
assert ranked(cats, "abc", ranking_length=2, renormalize=True) == [("b", 0.625), ("c", 0.375)]
assert ranked({"a": 0.9, "b": 0.6}, "ab") == [("a", 0.6), ("b", 0.4)]  # multilabel scores
assert ranked({"a": 0.5, "b": 0.5, "pos": 0.9}, "ab") == [("a", 0.5), ("b", 0.5)]  # other pipes'
assert ranked({"a": 0.0, "b": 0.0}, "ab") == []

nlp = spacy.blank("en")
nlp.add_pipe("textcat").add_label("greet")
assert "has no labels" in message(nlp.from_config(nlp.config))
nlp.add_pipe("textcat_multilabel", name="topics").add_label("shoes")
assert "several text classifiers (['textcat', 'topics'])" in message(nlp)
assert "e.g. `textcat: textcat`" in message(nlp)
assert find_text_classifier(nlp, "topics") == ("topics", ("shoes",))
assert "'my_model' has no text classifier named 'nope'" in message(nlp, "nope", "my_model")
print("ok")
"""


@pytest.mark.rasa
def test_rasa_rank_intents_and_find_text_classifier(rasa_python):
    cmd = [rasa_python, "-c", UNIT_CHECKS]
    done = subprocess.run(cmd, capture_output=True, text=True, env=rasa_env())
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def assert_ranking(result: Dict, length: int):
    ranking = result["intent_ranking"]
    confidences = [r["confidence"] for r in ranking]
    assert len(ranking) == length
    assert confidences == sorted(confidences, reverse=True)
    assert {r["name"] for r in ranking} <= set(INTENTS)
    assert result["intent"] == ranking[0]


@pytest.mark.rasa
def test_rasa_parses_held_out_messages(rasa_python, spacy_model, tmp_path):
    returncode, output, results = parse(rasa_python, tmp_path, spacy_model, EXAMPLE / "config.yml")
    assert returncode == 0, output[-3000:]
    assert len(results) == len(read_records(HELD_OUT))
    for result in results:
        assert_ranking(result, length=10)
    # Messages that are not in the training data: a tiny bag-of-words textcat gets most right.
    correct = sum(r["intent"]["name"] == r["expected"] for r in results)
    assert correct / len(results) > 0.6, output[-2000:]
    assert "lowercases" not in output  # the example config keeps the case


@pytest.mark.rasa
@pytest.mark.parametrize(
    "settings,length",
    [
        ({"ranking_length": 0}, len(INTENTS)),
        ({"ranking_length": 3, "renormalize_confidences": True}, 3),
    ],
)
def test_rasa_rankings_sum_to_one(rasa_python, spacy_model, tmp_path, settings, length):
    config = write_config(tmp_path / "config.yml", classifier=settings)
    returncode, output, results = parse(rasa_python, tmp_path, spacy_model, config, FEW_MESSAGES)
    assert returncode == 0, output[-3000:]
    assert [r["text"] for r in results] == FEW_MESSAGES
    for result in results:
        assert_ranking(result, length)
        total = sum(r["confidence"] for r in result["intent_ranking"])
        assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.rasa
def test_rasa_warns_when_spacy_nlp_lowercases(rasa_python, spacy_model, tmp_path):
    config = write_config(tmp_path / "config.yml", spacy_nlp={"case_sensitive": None})
    returncode, output, _ = parse(rasa_python, tmp_path, spacy_model, config, FEW_MESSAGES)
    assert returncode == 0, output[-3000:]
    assert "lowercases every message" in output and "case_sensitive: true" in output


@pytest.mark.rasa
@pytest.mark.parametrize("before", ["WhitespaceTokenizer", None], ids=["missing", "after"])
def test_rasa_error_without_spacy_nlp_before(rasa_python, spacy_model, tmp_path, before):
    config = tmp_path / "config.yml"
    if before is None:  # SpacyNLP is there, but runs after the classifier
        spacy_nlp = {"name": "SpacyNLP", "model": spacy_model, "case_sensitive": True}
        pipeline = [{"name": CLASSIFIER}, spacy_nlp]
    else:
        pipeline = [{"name": before}, {"name": CLASSIFIER}]
    config.write_text(json.dumps({"recipe": "default.v1", "language": "en", "pipeline": pipeline}))
    returncode, output, _ = parse(rasa_python, tmp_path, spacy_model, config, FEW_MESSAGES)
    assert returncode != 0
    assert "no SpacyNLP comes before it in the pipeline" in output, output[-3000:]


@pytest.mark.rasa
def test_rasa_error_without_text_classifier(rasa_python, tmp_path):
    blank = tmp_path / "blank"
    spacy.blank("en").to_disk(blank)
    config = EXAMPLE / "config.yml"
    returncode, output, _ = parse(rasa_python, tmp_path, str(blank), config, FEW_MESSAGES)
    assert returncode != 0
    assert "has no text classifier" in output, output[-3000:]


# --- A bot in another language ----------------------------------------------------------------

GERMAN_INTENTS = {
    "begruessung": [
        "Hallo!", "Guten Morgen", "Grüß Gott", "Servus, wie geht's?", "Hallo zusammen", "Guten Tag",
        "Moin", "Hallo, ist da jemand?",
    ],
    "bestellung_verfolgen": [
        "Wo ist meine Bestellung?", "Wann kommt mein Paket?", "Ist die Lieferung schon unterwegs?",
        "Mein Paket ist noch nicht da", "Sendungsverfolgung bitte", "Wo bleibt die Lieferung?",
        "Wann wird meine Bestellung geliefert?", "Das Paket ist seit einer Woche unterwegs",
    ],
    "rueckgabe": [
        "Ich möchte das zurückgeben", "Wie funktioniert die Rückgabe?", "Kann ich die Schuhe umtauschen?",
        "Rücksendung beantragen", "Das Gerät ist kaputt, ich will mein Geld zurück", "Erstattung bitte",
        "Die Größe passt nicht, ich schicke es zurück", "Rückgabe der Jacke",
    ],
}
GERMAN_HELD_OUT = [
    ("Hallo, guten Abend!", "begruessung"),
    ("Wo ist mein Paket?", "bestellung_verfolgen"),
    ("Wann kommt die Lieferung?", "bestellung_verfolgen"),
    ("Ich will die Jacke zurückgeben.", "rueckgabe"),
    ("Die Schuhe sind zu groß, Rückgabe bitte", "rueckgabe"),
    ("Grüß dich!", "begruessung"),
]


@pytest.fixture(scope="session")
def german_student(tmp_path_factory) -> Path:
    """A tiny German textcat saved as a pipeline of lang "de", as `spacy package` would ship it."""
    nlp = spacy.blank("de")
    bow = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 1}
    textcat = nlp.add_pipe("textcat", config={"model": {**bow, "no_output_layer": False}})
    for intent in GERMAN_INTENTS:
        textcat.add_label(intent)
    examples = [
        Example.from_dict(nlp.make_doc(text), {"cats": {i: float(i == intent) for i in GERMAN_INTENTS}})
        for intent, texts in GERMAN_INTENTS.items() for text in texts
    ]
    random.Random(0).shuffle(examples)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(20):
        for batch in minibatch(examples, 8):
            nlp.update(batch, sgd=optimizer)
    nlp.meta["name"] = "intents_student"
    path = tmp_path_factory.mktemp("german_student")
    nlp.to_disk(path)
    return path


def german_bot(tmp_path: Path, model: Path, language: str) -> Tuple[Path, Path, Path]:
    """A Rasa config in `language` serving `model`, its NLU data and held-out messages (CSV)."""
    def write_csv(path: Path, rows) -> Path:
        with path.open("w", encoding="utf8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        return path

    spacy_nlp = {"name": "SpacyNLP", "model": str(model), "case_sensitive": True}
    pipeline = [spacy_nlp, {"name": CLASSIFIER, "ranking_length": 0}]
    config = tmp_path / "config.yml"
    config.write_text(json.dumps({"recipe": "default.v1", "language": language, "pipeline": pipeline, "policies": []}))
    nlu = write_csv(tmp_path / "nlu.csv", [(t, intent) for intent, texts in GERMAN_INTENTS.items() for t in texts])
    return config, nlu, write_csv(tmp_path / "messages.csv", GERMAN_HELD_OUT)


def run_parse(python: str, tmp_path: Path, config: Path, nlu: Path, messages: Path):
    args = ["--config", str(config), "--nlu", str(nlu), "--messages", str(messages), "--json", str(tmp_path / "out.json")]
    done = subprocess.run([python, str(EXAMPLE / "parse.py"), *args], capture_output=True, text=True,
                          cwd=tmp_path, env=rasa_env())
    out = tmp_path / "out.json"
    results = json.loads(out.read_text(encoding="utf8"))["results"] if out.exists() else []
    return done.returncode, " ".join((done.stdout + done.stderr).split()), results


@pytest.mark.rasa
def test_rasa_bot_in_german(rasa_python, german_student, tmp_path):
    config, nlu, messages = german_bot(tmp_path, german_student, "de")
    returncode, output, results = run_parse(rasa_python, tmp_path, config, nlu, messages)
    assert returncode == 0, output[-3000:]
    assert [r["text"] for r in results] == [text for text, _ in GERMAN_HELD_OUT]  # umlauts intact
    for result in results:
        ranking = result["intent_ranking"]
        assert {r["name"] for r in ranking} == set(GERMAN_INTENTS) and result["intent"] == ranking[0]
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-6)
    correct = sum(r["intent"]["name"] == r["expected"] for r in results)
    assert correct >= len(results) - 1, output[-2000:]


@pytest.mark.rasa
def test_rasa_refuses_a_student_of_another_language(rasa_python, german_student, tmp_path):
    config, nlu, messages = german_bot(tmp_path, german_student, "en")
    returncode, output, _ = run_parse(rasa_python, tmp_path, config, nlu, messages)
    assert returncode != 0
    assert "the bot's language is 'en', but its spaCy model" in output and "Fix: set `language: de`" in output
