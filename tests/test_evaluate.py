import json
import zipfile

import numpy
import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from distill_spacy.evaluate import (
    classification_metrics,
    evaluate_models,
    expected_calibration_error,
    gain_kept,
    measure_speed,
    paired_bootstrap,
    predict_probs,
    quality_metrics,
    wilson_interval,
)
from distill_spacy.report import build_report, write_evaluation, write_report

GOLD = ["pos", "pos", "pos", "neg", "neg", "neu"]
PRED = ["pos", "pos", "neg", "neg", "pos", "pos"]


def test_classification_metrics_by_hand():
    m = classification_metrics(GOLD, PRED, ["pos", "neg", "neu"])
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(3 / 6)
    # pos: tp 2, fp 2, fn 1 -> p 0.5, r 2/3, f1 4/7; neg: tp 1, fp 1, fn 1 -> 0.5; neu: 0
    assert m["per_class"]["pos"] == pytest.approx({"p": 0.5, "r": 2 / 3, "f1": 4 / 7, "support": 3})
    assert m["per_class"]["neg"] == pytest.approx({"p": 0.5, "r": 0.5, "f1": 0.5, "support": 2})
    assert m["per_class"]["neu"] == pytest.approx({"p": 0.0, "r": 0.0, "f1": 0.0, "support": 1})
    assert m["macro_f1"] == pytest.approx((4 / 7 + 0.5 + 0) / 3)
    # rows gold (pos, neg, neu), columns predicted
    assert m["confusion"] == [[2, 1, 0], [1, 1, 0], [1, 0, 0]]
    assert m["accuracy_ci95"] == pytest.approx(list(wilson_interval(3, 6)))


def test_classification_metrics_length_mismatch():
    with pytest.raises(ValueError, match="5 gold labels but 6 predictions"):
        classification_metrics(GOLD[:5], PRED, ["pos", "neg", "neu"])


def test_wilson_interval_by_hand():
    # 8 of 10: centre (0.8 + z²/20) / (1 + z²/10), half-width z·sqrt(0.016 + z²/400) / (1 + z²/10)
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    # The interval stays inside [0, 1] at the edges and is not degenerate.
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(0, 20)[1] == pytest.approx(0.1611, abs=1e-4)
    assert wilson_interval(20, 20)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    # More examples, narrower interval.
    assert numpy.diff(wilson_interval(800, 1000)) < numpy.diff(wilson_interval(80, 100))


def test_expected_calibration_error_by_hand():
    probs = numpy.array([[0.85, 0.15], [0.75, 0.25], [0.35, 0.65], [0.45, 0.55]])
    gold = [0, 1, 1, 1]
    # 5 bins of width 0.2. Bin (0.8, 1]: 0.85 right -> |1 - 0.85| = 0.15, weight 1/4.
    # Bin (0.6, 0.8]: 0.75 wrong, 0.65 right -> |0.5 - 0.7| = 0.2, weight 2/4.
    # Bin (0.4, 0.6]: 0.55 right -> 0.45, weight 1/4.
    assert expected_calibration_error(probs, gold, n_bins=5) == pytest.approx(0.15 / 4 + 0.2 / 2 + 0.45 / 4)
    # A perfectly confident, always right model is perfectly calibrated.
    assert expected_calibration_error(numpy.eye(3), [0, 1, 2]) == 0.0
    # Always 100% sure and always wrong: the worst case.
    assert expected_calibration_error(numpy.eye(2), [1, 0]) == 1.0


def test_paired_bootstrap():
    a = [True, True, True, False] * 50
    b = [True, False, False, False] * 50
    result = paired_bootstrap(a, b)
    assert result["diff"] == pytest.approx(0.5)
    lo, hi = result["ci95"]
    assert 0.0 < lo < 0.5 < hi < 1.0
    assert paired_bootstrap(a, a) == {"diff": 0.0, "ci95": [0.0, 0.0]}
    assert paired_bootstrap(a, b) == result  # seeded: the same interval every run
    with pytest.raises(ValueError, match="same examples"):
        paired_bootstrap(a, b[:-1])


def test_gain_kept():
    assert gain_kept(0.8, 0.9, 0.7) == pytest.approx(0.5)
    assert gain_kept(0.65, 0.9, 0.7) == pytest.approx(-0.25)
    assert gain_kept(0.8, 0.7, 0.7) is None
    assert gain_kept(0.8, 0.6, 0.7) is None


def test_quality_metrics_agreement_and_unknown_labels():
    probs = numpy.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    m = quality_metrics(["a", "b", "b"], probs, ["a", "b"], reference=["a", "a", "a"])
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["agreement_with_teacher"] == pytest.approx(2 / 3)
    assert quality_metrics(["a", "b", "b"], probs, ["a", "b"])["agreement_with_teacher"] is None
    with pytest.raises(ValueError, match=r"\['c'\]"):
        quality_metrics(["a", "b", "c"], probs, ["a", "b"])


TRAIN = [
    ("great product, love it", "pos"),
    ("works great, very happy", "pos"),
    ("love the colour", "pos"),
    ("awful, it broke", "neg"),
    ("broke after a day, awful", "neg"),
    ("terrible and cheap", "neg"),
]


def train_textcat(n_iter: int, bow_length: int = 1024) -> spacy.Language:
    """A stock bag-of-words textcat with a hash table of `bow_length` rows, trained on TRAIN."""
    nlp = spacy.blank("en")
    model = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 1,
             "no_output_layer": False, "length": bow_length, "nO": None}
    nlp.add_pipe("textcat", config={"model": model})
    examples = [
        Example.from_dict(nlp.make_doc(t), {"cats": {"pos": float(y == "pos"), "neg": float(y == "neg")}})
        for t, y in TRAIN
    ]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(n_iter):
        nlp.update(examples, sgd=optimizer)
    return nlp


def test_predict_probs_and_speed():
    nlp = train_textcat(5)
    probs = predict_probs(nlp, ["love it", "awful"], ["neg", "pos", "other"])
    assert probs.shape == (3 - 1, 3)
    assert probs[:, 2].tolist() == [0.0, 0.0]  # a label the model lacks scores 0
    assert probs[0, 1] > probs[0, 0] and probs[1, 0] > probs[1, 1]
    speed = measure_speed(nlp, ["love it", "awful", "ok"] * 5, n_single=4, warmup=2, repeats=3)
    assert len(speed["repeats"]) == 3
    assert speed["latency_ms_p50"] == sorted(r["latency_ms_p50"] for r in speed["repeats"])[1]
    assert 0 < speed["latency_ms_p50"] <= speed["latency_ms_p95"]
    assert speed["pipe_docs_per_s"] > 0


def write_test_set(tmp_path):
    test_docs = DocBin()
    nlp = spacy.blank("en")
    for text, label in TRAIN + [("love it, great", "pos"), ("it broke, terrible", "neg")]:
        doc = nlp.make_doc(text)
        doc.cats = {"pos": float(label == "pos"), "neg": float(label == "neg")}
        test_docs.add(doc)
    test_docs.to_disk(tmp_path / "test.spacy")
    return tmp_path / "test.spacy"


def test_report_builds_from_a_tiny_run(tmp_path):
    write_test_set(tmp_path)
    models = {}
    for name, n_iter in (("baseline", 1), ("teacher", 20), ("student", 10)):
        models[name] = tmp_path / name
        train_textcat(n_iter).to_disk(models[name])

    report = evaluate_models(models, tmp_path / "test.spacy", repeats=2, n_single=4, warmup=1, command="test")
    assert report["n"] == 8 and report["labels"] == ["pos", "neg"]
    assert list(report["models"]) == ["baseline", "teacher", "student"]
    teacher, student = report["models"]["teacher"], report["models"]["student"]
    assert teacher["role"] == "teacher" and student["role"] == "student"
    assert teacher["quality"]["agreement_with_teacher"] is None
    assert 0.0 <= student["quality"]["agreement_with_teacher"] <= 1.0
    assert len(student["speed"]["repeats"]) == 2
    assert student["size"]["params"] == 2 * 1024 + 2
    assert student["size"]["rss_added_bytes"] > 0
    assert student["size"]["wheel_bytes"] is None
    comparison = report["comparisons"]["student"]
    assert set(comparison) >= {"speedup_p50", "size_reduction_folder", "gain_kept", "accuracy_diff_vs_teacher"}
    assert comparison["size_reduction_folder"] == pytest.approx(
        teacher["size"]["folder_bytes"] / student["size"]["folder_bytes"]
    )
    written = write_report(report, tmp_path / "metrics")
    names = {p.name for p in written}
    assert {"report.json", "REPORT.md", "accuracy_latency.png", "confusion_student.png"} <= names
    assert json.loads((tmp_path / "metrics" / "report.json").read_text())["n"] == 8
    for path in written:
        assert path.stat().st_size > 0


def test_build_report_adds_the_wheel_and_the_ablation_without_touching_the_evaluation(tmp_path):
    model = tmp_path / "student"
    train_textcat(2).to_disk(model)
    evaluation = evaluate_models({"student": model}, write_test_set(tmp_path), speed=False, memory=False)
    metrics = tmp_path / "metrics"
    evaluation["sources"] = {"wheel_dir": str(tmp_path / "dist"), "ablation": str(metrics / "ablation.json")}
    write_evaluation(evaluation, metrics)
    report = build_report(metrics)  # no wheel, no ablation yet
    assert report["models"]["student"]["size"]["wheel_bytes"] is None and report["ablation"] is None
    measured = (metrics / "evaluation.json").read_bytes()
    (tmp_path / "dist").mkdir()
    with zipfile.ZipFile(tmp_path / "dist" / "en_x-0.1.0-py3-none-any.whl", "w") as archive:
        archive.writestr("en_x/en_x-0.1.0/textcat/model", (model / "textcat" / "model").read_bytes())
    ablation = {"n": 8, "baseline_accuracy": 0.5, "teacher_accuracy": 0.9, "variants": []}
    (metrics / "ablation.json").write_text(json.dumps(ablation))
    report = build_report(metrics)
    on_disk = json.loads((metrics / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["models"]["student"]["size"]["wheel_bytes"] == (tmp_path / "dist").joinpath(
        "en_x-0.1.0-py3-none-any.whl").stat().st_size
    assert on_disk["ablation"] == ablation
    assert "## Ablations" in (metrics / "REPORT.md").read_text()
    # What evaluate measured stays as it was: spacy project tracks that file.
    assert (metrics / "evaluation.json").read_bytes() == measured
    with pytest.raises(FileNotFoundError, match="evaluate"):
        build_report(tmp_path / "elsewhere")
