import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from distill_spacy import ablation
from distill_spacy.ablation import (
    VARIANTS, VARIANTS_BY_NAME, AblationSettings, build_transfer_set, merge_entries, parse_variants,
    run_ablation, variant_specs,
)
from distill_spacy.augment import augment, default_augmenter_specs
from distill_spacy.data import preprocess
from distill_spacy.errors import DataError
from distill_spacy.label import harden_docbin, label_transfer_set
from distill_spacy.student import GOLD_KEY
from distill_spacy.shards import iter_docs

ROOT = Path(__file__).parent.parent
TRAIN = [
    ("Great product. Would buy again!", "positive"),
    ("Love it. The sound is excellent and the battery works fine.", "positive"),
    ("Perfect price. Really good quality.", "positive"),
    ("It works. I loved this product, great screen.", "positive"),
    ("Awful product. Never again.", "negative"),
    ("I hate it. The battery broke and the sound was terrible.", "negative"),
    ("Poor quality. A waste of money.", "negative"),
    ("It broke. I returned it, bad screen.", "negative"),
]
DEV = [("good sound", "positive"), ("bad battery", "negative"), ("excellent", "positive"), ("awful", "negative")]
TEST = [
    ("great price", "positive"), ("terrible screen", "negative"), ("would buy it", "positive"),
    ("poor sound", "negative"), ("love the battery", "positive"), ("never buy this", "negative"),
]
NAMES = ["gold", "originals", "unlabelled", "full", "no_mask", "no_pos", "no_ngram", "no_sentence", "hard"]
ENTRY_KEYS = {
    "name", "description", "transfer_size", "epochs", "accuracy", "accuracy_ci95", "macro_f1",
    "agreement_with_teacher", "gain_kept",
}
# No POS model: fast, and the tests that need tags load the offline en_core_web_sm.
FAST = dict(n_iter=3, pos_model="", student_epochs=1, gold_epochs=2)


def write_csv(path: Path, rows) -> Path:
    path.write_text("text,label\n" + "\n".join(f'"{t}",{l}' for t, l in rows) + "\n", encoding="utf8")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("ablation_corpus")
    splits = {"train": TRAIN, "dev": DEV, "test": TEST}
    inputs = {name: write_csv(tmp / f"{name}.csv", rows) for name, rows in splits.items()}
    preprocess(inputs, tmp / "corpus")
    return tmp / "corpus"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A stock textcat, initialised and not trained: the ablation only scores it."""
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat")
    for label in ("positive", "negative"):
        textcat.add_label(label)
    nlp.initialize()
    path = tmp_path_factory.mktemp("baseline")
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def teacher(tiny_teacher, tmp_path_factory) -> Path:
    """The tiny teacher with random output weights: initialised ones give 0.5/0.5 for every text."""
    import numpy

    nlp = spacy.load(tiny_teacher)
    rng = numpy.random.default_rng(0)
    for node in nlp.get_pipe("textcat").model.walk():
        for name in node.param_names:
            if node.has_param(name) and not node.get_param(name).any():
                value = node.get_param(name)
                node.set_param(name, rng.normal(0, 1, value.shape).astype(value.dtype))
    path = tmp_path_factory.mktemp("teacher")
    nlp.to_disk(path)
    return path


def transfer_rows(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


def test_variant_names_and_order():
    assert [v.name for v in VARIANTS] == NAMES
    settings = AblationSettings(student_epochs=2, gold_epochs=30)
    assert {v.name: settings.epochs(v) for v in VARIANTS} == {
        "gold": 30, "originals": 30, "unlabelled": 2, "full": 2, "no_mask": 2, "no_pos": 2, "no_ngram": 2, "no_sentence": 2,
        "hard": 2,
    }


def test_parse_variants():
    assert [v.name for v in parse_variants("")] == NAMES
    assert [v.name for v in parse_variants("hard, gold")] == ["gold", "hard"]  # in VARIANTS order
    with pytest.raises(ValueError, match="(?s)'nomask'.*no_mask"):
        parse_variants("gold,nomask")


@pytest.mark.parametrize("name,method", [
    ("no_mask", "distill_spacy.mask.v1"), ("no_pos", "distill_spacy.pos.v1"),
    ("no_ngram", "distill_spacy.ngram.v1"), ("no_sentence", "distill_spacy.sentence.v1"),
])
def test_variant_switches_off_one_method(name, method):
    specs = default_augmenter_specs(0.1, 0.2, 0.3, 0.4, "[MASK]")
    specs["my_package.swap.v1"] = {"p": 0.05}
    changed = variant_specs(VARIANTS_BY_NAME[name], specs)
    assert changed[method]["p"] == 0.0
    assert {k: v for k, v in changed.items() if k != method} == {k: v for k, v in specs.items() if k != method}
    assert specs[method]["p"] > 0  # the main settings are not touched


def test_full_and_hard_keep_the_main_settings():
    specs = default_augmenter_specs()
    assert variant_specs(VARIANTS_BY_NAME["full"], specs) == specs
    assert variant_specs(VARIANTS_BY_NAME["hard"], specs) == specs
    assert variant_specs(VARIANTS_BY_NAME["originals"], specs) == {}
    assert variant_specs(VARIANTS_BY_NAME["unlabelled"], specs) == {}


@pytest.mark.parametrize("name,method", [
    ("no_mask", "mask"), ("no_pos", "pos"), ("no_ngram", "ngram"), ("no_sentence", "sentence"),
])
def test_switched_off_method_never_applies(corpus, tmp_path, name, method):
    specs = default_augmenter_specs(p_mask=0.3, p_pos=0.3, p_ng=0.3, p_sent=0.5)
    settings = AblationSettings(augmenter_specs=specs, n_iter=10, pos_model="en_core_web_sm")
    heldout = [corpus / "dev.spacy", corpus / "test.spacy"]
    full = transfer_rows_of(VARIANTS_BY_NAME["full"], settings, corpus, heldout, tmp_path / "full.jsonl")
    ablated = transfer_rows_of(VARIANTS_BY_NAME[name], settings, corpus, heldout, tmp_path / "ablated.jsonl")
    assert any(method in r.get("methods", []) for r in full)  # the method does apply in the full recipe
    assert not any(method in r.get("methods", []) for r in ablated)
    if name == "no_mask":
        assert any("[MASK]" in r["text"] for r in full)
        assert not any("[MASK]" in r["text"] for r in ablated)


def transfer_rows_of(variant, settings, corpus, heldout, output):
    build_transfer_set(variant, settings, corpus / "train.spacy", heldout, output)
    return transfer_rows(output)


def test_originals_transfer_set_is_the_train_texts(corpus, tmp_path):
    unlabelled = tmp_path / "unlabelled.txt"
    unlabelled.write_text("the screen is fine\nit was not very good\n", encoding="utf8")
    settings = AblationSettings(unlabelled=unlabelled, **FAST)
    output = tmp_path / "transfer.jsonl"
    build_transfer_set(VARIANTS_BY_NAME["originals"], settings, corpus / "train.spacy", [], output)
    assert transfer_rows(output) == [{"text": t, "source": "original"} for t, _ in TRAIN]
    # The unlabelled variant takes the unlabelled texts and draws no samples.
    build_transfer_set(VARIANTS_BY_NAME["unlabelled"], settings, corpus / "train.spacy", [], output)
    assert transfer_rows(output) == [{"text": t, "source": "original"} for t, _ in TRAIN] + [
        {"text": "the screen is fine", "source": "unlabelled"}, {"text": "it was not very good", "source": "unlabelled"}
    ]
    # The augmented variants take them too.
    build_transfer_set(VARIANTS_BY_NAME["full"], settings, corpus / "train.spacy", [], output)
    assert "the screen is fine" in {r["text"] for r in transfer_rows(output)}


def test_transfer_sets_keep_the_leakage_guard(corpus, tmp_path):
    # An unlabelled text equal to a test text must not reach any transfer set.
    unlabelled = tmp_path / "unlabelled.txt"
    unlabelled.write_text(f"{TEST[0][0]}\n", encoding="utf8")
    settings = AblationSettings(unlabelled=unlabelled, **FAST)
    output = tmp_path / "transfer.jsonl"
    build_transfer_set(VARIANTS_BY_NAME["no_ngram"], settings, corpus / "train.spacy",
                       [corpus / "dev.spacy", corpus / "test.spacy"], output)
    texts = {r["text"].casefold() for r in transfer_rows(output)}
    assert not texts & {t.casefold() for t, _ in TEST + DEV}


def test_hard_labels_are_one_hot_argmax_of_the_teacher(corpus, teacher, tmp_path):
    transfer = tmp_path / "transfer.jsonl"
    build_transfer_set(VARIANTS_BY_NAME["hard"], AblationSettings(**FAST), corpus / "train.spacy", [], transfer)
    soft = tmp_path / "soft.spacy"
    label_transfer_set(teacher, transfer, corpus / "train.spacy", soft, tmp_path / "cache.sqlite")
    hard = tmp_path / "hard.spacy"
    assert harden_docbin(soft, hard) == len(transfer_rows(transfer))
    vocab = spacy.blank("en").vocab
    soft_docs = list(iter_docs(soft, vocab))  # folders of shards
    hard_docs = list(iter_docs(hard, vocab))
    assert [d.text for d in hard_docs] == [d.text for d in soft_docs]
    for s, h in zip(soft_docs, hard_docs):
        top = max(s.cats, key=s.cats.get)
        assert h.cats == {label: float(label == top) for label in s.cats}
        assert h.user_data.get(GOLD_KEY) == s.user_data.get(GOLD_KEY)
    assert sum(GOLD_KEY in d.user_data for d in hard_docs) == len(TRAIN)  # originals keep their gold label
    assert len({tuple(sorted(d.cats.values())) for d in soft_docs}) > 1  # soft labels really were soft


def test_merge_entries_keeps_others_in_variant_order():
    old = [{"name": "hard", "accuracy": 0.1}, {"name": "gold", "accuracy": 0.2}, {"name": "gone", "accuracy": 0}]
    new = [{"name": "full", "accuracy": 0.3}, {"name": "gold", "accuracy": 0.4}]
    assert merge_entries(old, new) == [
        {"name": "gold", "accuracy": 0.4}, {"name": "full", "accuracy": 0.3}, {"name": "hard", "accuracy": 0.1},
    ]


@pytest.fixture
def run(corpus, teacher, baseline, tmp_path):
    """run_ablation on the tiny corpus, with outputs under tmp_path."""
    paths = dict(
        teacher=teacher, baseline=baseline, train=corpus / "train.spacy", dev=corpus / "dev.spacy",
        test=corpus / "test.spacy", config=ROOT / "configs" / "student_bow.cfg",
        output_dir=tmp_path / "ablation", metrics=tmp_path / "metrics" / "ablation.json",
        cache=tmp_path / "label_cache.sqlite",
    )

    def run_(names: str, force: bool = False):
        settings = AblationSettings(**FAST)
        return run_ablation(**paths, settings=settings, variants=parse_variants(names), force=force)

    run_.paths = paths
    return run_


def test_run_subset_writes_schema_and_keeps_other_entries(run):
    metrics = run.paths["metrics"]
    metrics.parent.mkdir()
    kept = {"name": "no_pos", "description": "from an earlier run", "transfer_size": 1, "epochs": 1,
            "accuracy": 0.5, "accuracy_ci95": [0.1, 0.9], "macro_f1": 0.5, "agreement_with_teacher": 0.5,
            "gain_kept": None}
    metrics.write_text(json.dumps({"variants": [kept]}), encoding="utf8")
    result = run("hard,gold")
    data = json.loads(metrics.read_text(encoding="utf8"))
    assert data == json.loads(json.dumps(result))
    assert set(data) == {"n", "test", "baseline_accuracy", "teacher_accuracy", "variants"}
    assert data["n"] == len(TEST) and data["test"] == str(run.paths["test"])
    assert [e["name"] for e in data["variants"]] == ["gold", "no_pos", "hard"]
    assert data["variants"][1] == kept
    for entry in data["variants"]:
        assert set(entry) == ENTRY_KEYS
    gold, _, hard = data["variants"]
    assert gold["transfer_size"] == len(TRAIN) and gold["epochs"] == FAST["gold_epochs"]
    assert hard["transfer_size"] > len(TRAIN) and hard["epochs"] == FAST["student_epochs"]
    assert 0.0 <= hard["accuracy"] <= 1.0 and len(hard["accuracy_ci95"]) == 2
    assert 0.0 <= hard["agreement_with_teacher"] <= 1.0
    folder = run.paths["output_dir"]
    assert (folder / "hard" / "transfer.jsonl").exists() and (folder / "hard" / "transfer.spacy").exists()
    assert (folder / "hard" / "model" / "model-best").is_dir()
    assert (folder / "gold" / "model" / "model-best").is_dir()
    assert not (folder / "gold" / "transfer.jsonl").exists()  # gold trains on train.spacy as it is


def test_gold_variant_trains_on_the_gold_docbin(run, monkeypatch):
    calls = []

    def fake_train(config, train, dev, output_dir, epochs, *args, **kwargs):
        calls.append((Path(train), epochs))
        raise RuntimeError("stop after recording")

    monkeypatch.setattr(ablation, "train_student", fake_train)
    with pytest.raises(RuntimeError):
        run("gold")
    assert calls == [(run.paths["train"], FAST["gold_epochs"])]
    docs = DocBin().from_disk(run.paths["train"]).get_docs(spacy.blank("en").vocab)
    assert {tuple(sorted(d.cats.values())) for d in docs} == {(0.0, 1.0)}  # one-hot gold cats


@pytest.fixture
def built(monkeypatch):
    """The names of the variants that run_ablation builds (rather than skips)."""
    names = []
    real = ablation.run_variant

    def counted(variant, *args):
        names.append(variant.name)
        return real(variant, *args)

    monkeypatch.setattr(ablation, "run_variant", counted)
    return names


def test_unlabelled_variant_is_skipped_without_unlabelled_texts(run, built, capsys):
    result = run("unlabelled,gold")
    assert built == ["gold"]
    assert [e["name"] for e in result["variants"]] == ["gold"]
    assert "Skipping the variant 'unlabelled'" in capsys.readouterr().out


def test_existing_outputs_are_skipped_unless_forced(run, built, capsys):
    before = run("gold")
    assert built == ["gold"]
    capsys.readouterr()
    again = run("gold")
    assert built == ["gold"]
    assert "Skipping gold" in capsys.readouterr().out
    assert again["variants"] == before["variants"]  # rescored from the same model
    run("gold", force=True)
    assert built == ["gold", "gold"]


def test_changed_settings_rebuild_a_variant(run, built, capsys):
    run("gold")
    capsys.readouterr()
    result = run_ablation(**run.paths, settings=AblationSettings(**{**FAST, "gold_epochs": 3}),
                          variants=parse_variants("gold"))
    assert built == ["gold", "gold"]
    assert "Rebuilding gold: epochs changed" in capsys.readouterr().out
    assert result["variants"][0]["epochs"] == 3


def test_retrained_teacher_rebuilds_teacher_variants(run, built, tmp_path, capsys):
    teacher = shutil.copytree(run.paths["teacher"], tmp_path / "teacher")
    paths = {**run.paths, "teacher": teacher}
    run_ablation(**paths, settings=AblationSettings(**FAST), variants=parse_variants("gold,originals"))
    (teacher / "meta.json").write_text((teacher / "meta.json").read_text() + " ", encoding="utf8")
    built.clear()
    capsys.readouterr()
    run_ablation(**paths, settings=AblationSettings(**FAST), variants=parse_variants("gold,originals"))
    assert built == ["originals"]  # gold does not depend on the teacher
    out = capsys.readouterr().out
    assert "Skipping gold" in out and "Rebuilding originals: teacher changed" in out


def test_cli_rejects_unknown_variant(corpus, teacher, baseline, tmp_path):
    cmd = [
        sys.executable, str(ROOT / "scripts" / "ablate.py"), str(teacher), str(baseline),
        str(corpus / "train.spacy"), str(corpus / "dev.spacy"), str(corpus / "test.spacy"),
        "--variants", "gold,nomask", "--metrics", str(tmp_path / "ablation.json"),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "'nomask'" in result.stderr and not (tmp_path / "ablation.json").exists()


def test_cli_end_to_end(corpus, teacher, baseline, tmp_path):
    # The augmentation settings come from the augment step's summary (here: no POS model, no unlabelled).
    augment(corpus / "train.spacy", tmp_path / "transfer.jsonl", pos_model="", n_iter=0)
    cmd = [
        sys.executable, str(ROOT / "scripts" / "ablate.py"), str(teacher), str(baseline),
        str(corpus / "train.spacy"), str(corpus / "dev.spacy"), str(corpus / "test.spacy"),
        "--config", str(ROOT / "configs" / "student_bow.cfg"), "--output-dir", str(tmp_path / "ablation"),
        "--metrics", str(tmp_path / "ablation.json"), "--cache", str(tmp_path / "cache.sqlite"),
        "--transfer-summary", str(tmp_path / "transfer.summary.json"), "--n-iter", "3",
        "--student-epochs", "1", "--gold-epochs", "2", "--batch-size", "64", "--gpu-id", "-1",
        "--variants", "originals,no_ngram", "--no-balance", "--components.textcat.loss.kind", "mse_probs",
        "--components.textcat.loss.temperature", "1.0", "--components.textcat.loss.alpha", "0.0",
        "--paths.vectors", "null",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((tmp_path / "ablation.json").read_text(encoding="utf8"))
    assert [e["name"] for e in data["variants"]] == ["originals", "no_ngram"]
    assert "gain kept" in result.stdout
    model = tmp_path / "ablation" / "no_ngram" / "model" / "model-best"
    assert spacy.load(model).get_pipe("textcat").cfg is not None
    config = (model / "config.cfg").read_text(encoding="utf8")
    assert 'kind = "mse_probs"' in config and "max_epochs = 1" in config
    # The summary's mask token is "" (the project's default): the trained teacher's own token
    recipe = json.loads((tmp_path / "ablation" / "no_ngram" / "variant.json").read_text(encoding="utf8"))["recipe"]
    assert recipe["augmenters"]["distill_spacy.mask.v1"]["mask_token"] == "[MASK]"


def test_settings_come_from_the_augment_summary(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("\n".join(t for t, _ in TRAIN) + "\n", encoding="utf8")
    unlabelled = tmp_path / "extra.txt"
    unlabelled.write_text("The zip broke on day two.\n", encoding="utf8")
    specs = default_augmenter_specs(p_mask=0.3, p_pos=0.0, p_ng=0.5, p_sent=0.0)
    augment(train, tmp_path / "transfer.jsonl", unlabelled=unlabelled, augmenter_specs=specs, n_iter=0,
            budget=50, pos_model="en_core_web_sm", lang="en", seed=7)
    settings = AblationSettings.from_transfer_summary(tmp_path / "transfer.summary.json", n_iter=3)
    assert settings.augmenter_specs == specs and settings.n_iter == 3 and settings.budget == 50
    assert settings.pos_model == "en_core_web_sm"  # as asked, although n_iter 0 did not load it
    assert settings.unlabelled == str(unlabelled) and settings.seed == 7 and settings.lang == "en"


def test_unreadable_augment_summary_names_the_fix(tmp_path):
    path = tmp_path / "transfer.summary.json"
    path.write_text('{"settings": {"n_iter": 3}}', encoding="utf8")
    with pytest.raises(DataError, match=r"(?s)transfer.summary.json.*no settings.*augment --force"):
        AblationSettings.from_transfer_summary(path)
