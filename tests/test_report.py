import copy
import json

import pytest

from distill_spacy.report import (
    plot_accuracy_latency,
    plot_confusion,
    render_markdown,
    results_table,
    write_report,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ["negative", "positive"]
MACHINE = {
    "cpu": "AMD EPYC 7B13", "cores": 2, "platform": "Linux-6.1-x86_64", "python": "3.11.9",
    "spacy": "3.8.7", "torch_threads": 2,
}
TIMING = {"repeats": 3, "warmup": 20, "n_single": 300, "n_pipe": 1000, "batch_size": 64}
MODELS = {
    # name: (role, accuracy, ci, macro_f1, ece, agreement, p50, p95, docs/s, folder, wheel, params, rss)
    "baseline": ("baseline", 0.755, [0.728, 0.780], 0.754, 0.052, 0.79, 0.05, 0.09, 21000.0,
                 1_900_000, 700_000, 131_000, 9_000_000),
    "teacher": ("teacher", 0.841, [0.817, 0.862], 0.840, 0.031, None, 14.66, 21.3, 93.4,
                92_000_000, None, 22_700_000, 360_000_000),
    "student": ("student", 0.738, [0.710, 0.764], 0.737, 0.041, 0.81, 0.0698, 0.12, 14000.0,
                2_300_000, 800_000, 1_234_567, 12_000_000),
}
COMPARISON = {
    "speedup_p50": 210.0, "speedup_pipe": 149.9, "size_reduction_folder": 40.0,
    "size_reduction_rss": 30.0, "gain_kept": -0.2,
    "accuracy_diff_vs_teacher": {"diff": -0.103, "ci95": [-0.13, -0.08]},
    "accuracy_diff_vs_baseline": {"diff": -0.017, "ci95": [-0.04, 0.01]},
}
ABLATION = {
    "n": 1000, "baseline_accuracy": 0.755, "teacher_accuracy": 0.841,
    "variants": [
        {"name": "full", "description": "teacher probabilities on the full transfer set",
         "transfer_size": 11583, "accuracy": 0.738, "accuracy_ci95": [0.71, 0.76], "macro_f1": 0.737,
         "agreement_with_teacher": 0.81, "gain_kept": -0.2},
        {"name": "gold-only", "description": "gold labels, no teacher", "transfer_size": 4000,
         "accuracy": 0.801, "accuracy_ci95": [0.776, 0.825], "macro_f1": 0.8,
         "agreement_with_teacher": 0.85, "gain_kept": 0.535},
    ],
}


def make_model(role, acc, ci, f1, ece, agree, p50, p95, dps, folder, wheel, params, rss, labels):
    n_labels = len(labels)
    # Label i gets F1 0.5 + i / 100, so the first labels are the weakest.
    per_class = {
        label: {"p": 0.5 + i / 100, "r": 0.5 + i / 100, "f1": 0.5 + i / 100, "support": 1000 // n_labels}
        for i, label in enumerate(labels)
    }
    confusion = [[(1000 // n_labels) - 1 if i == j else 0 for j in range(n_labels)] for i in range(n_labels)]
    for i in range(n_labels):
        confusion[i][(i + 1) % n_labels] += 1
    return {
        "path": f"training/{role}/model-best",
        "role": role,
        "quality": {
            "n": 1000, "accuracy": acc, "accuracy_ci95": ci, "macro_f1": f1, "ece": ece,
            "agreement_with_teacher": agree, "per_class": per_class, "confusion": confusion,
        },
        "speed": {
            "latency_ms_p50": p50, "latency_ms_p95": p95, "pipe_docs_per_s": dps,
            "repeats": [{"latency_ms_p50": p50, "latency_ms_p95": p95, "pipe_docs_per_s": dps}],
        },
        "size": {
            "folder_bytes": folder, "wheel_bytes": wheel, "wheel": None, "params": params,
            "vector_values": 0, "rss_added_bytes": rss,
        },
    }


def make_report(labels=LABELS, ablation=True):
    return {
        "created": "2026-11-24T01:23:45+00:00",
        "command": "spacy project run evaluate",
        "test": "corpus/test.spacy",
        "n": 1000,
        "labels": list(labels),
        "machine": dict(MACHINE),
        "timing": dict(TIMING),
        "models": {name: make_model(*values, labels=labels) for name, values in MODELS.items()},
        "comparisons": {"student": copy.deepcopy(COMPARISON)},
        "ablation": copy.deepcopy(ABLATION) if ablation else None,
    }


@pytest.fixture
def report():
    return make_report()


@pytest.fixture
def many_labels():
    """40 labels, and a student whose speed was not measured."""
    report = make_report([f"intent_{i:02d}" for i in range(40)], ablation=False)
    report["models"]["student"]["speed"] = None
    return report


def test_markdown_header(report):
    md = render_markdown(report)
    assert md.startswith("# Evaluation report\n")
    assert (
        "- Machine: AMD EPYC 7B13, 2 cores, Linux-6.1-x86_64, Python 3.11.9, spaCy 3.8.7, "
        "torch threads 2\n"
    ) in md
    assert "- Test set: `corpus/test.spacy`, n = 1000, 2 labels\n" in md
    assert "- Timing: 3 repeats (medians reported), 20 warm-up docs, 300 docs one by one" in md
    assert "- Command: `spacy project run evaluate`\n" in md
    assert "![Accuracy against p50 latency](accuracy_latency.png)" in md


def test_markdown_summary_rows(report):
    md = render_markdown(report)
    assert (
        "| student | student | 0.738 [0.710, 0.764] | 0.737 | 0.041 | 0.810 | 0.0698 | 0.12 | 14,000 "
        "| 2.3 | 0.8 | 1.23M | 12.0 |"
    ) in md
    # The teacher has no agreement with itself and no wheel.
    assert (
        "| teacher | teacher | 0.841 [0.817, 0.862] | 0.840 | 0.031 | – | 14.7 | 21.3 | 93.4 "
        "| 92.0 | – | 22.7M | 360.0 |"
    ) in md
    assert "| baseline | baseline | 0.755 [0.728, 0.780] |" in md
    assert "| 131k | 9.0 |" in md


def test_markdown_comparison_row(report):
    md = render_markdown(report)
    assert "| student | 210x | 150x | 40x | 30x | -20% | -10.3 [-13.0, -8.0] | -1.7 [-4.0, +1.0] |" in md
    assert "an interval that excludes 0 is a real difference at 95%" in md


def test_markdown_missing_values_render_as_dash(many_labels):
    del many_labels["models"]["baseline"]["size"]["params"]
    many_labels["comparisons"]["student"]["speedup_p50"] = None
    md = render_markdown(many_labels)
    assert (
        "| student | student | 0.738 [0.710, 0.764] | 0.737 | 0.041 | 0.810 | – | – | – "
        "| 2.3 | 0.8 | 1.23M | 12.0 |"
    ) in md
    assert "| 0.7 | – | 9.0 |" in md
    assert "| student | – | 150x |" in md


def test_markdown_per_class_two_labels(report):
    md = render_markdown(report)
    assert "### student\n\n| label | precision | recall | F1 | support |" in md
    assert "| negative | 0.500 | 0.500 | 0.500 | 500 |" in md
    assert "| positive | 0.510 | 0.510 | 0.510 | 500 |" in md
    assert "lowest F1" not in md


def test_markdown_per_class_truncated_for_many_labels(many_labels):
    md = render_markdown(many_labels)
    assert "40 labels: showing the 10 with the lowest F1 of `student`, lowest first." in md
    per_class = md.split("## Per class")[1].split("## Confusion matrices")[0]
    assert "| intent_09 | 0.590 | 0.590 | 0.590 | 25 |" in per_class
    assert "intent_10" not in per_class
    # Ten rows for each of the three models.
    assert per_class.count("| intent_") == 30


def test_markdown_confusion_tables(report, many_labels):
    md = render_markdown(report)
    assert "| gold \\ predicted | negative | positive |" in md
    assert "| negative | 499 | 1 |" in md
    assert "![Confusion matrix: student](confusion_student.png)" in md
    many = render_markdown(many_labels)
    assert "gold \\ predicted" not in many
    assert "![Confusion matrix: teacher](confusion_teacher.png)" in many


def test_markdown_ablation(report, many_labels):
    md = render_markdown(report)
    assert "## Ablations" in md
    assert "- Baseline accuracy: 0.755\n- Teacher accuracy: 0.841\n" in md
    assert (
        "| full | teacher probabilities on the full transfer set | 11,583 | 0.738 [0.710, 0.760] "
        "| 0.737 | 0.810 | -20% |"
    ) in md
    assert (
        "| gold-only | gold labels, no teacher | 4,000 | 0.801 [0.776, 0.825] | 0.800 | 0.850 | 54% |"
    ) in md
    assert "## Ablations" not in render_markdown(many_labels)


def test_markdown_without_comparisons(report):
    report["comparisons"] = {}
    md = render_markdown(report)
    assert "## Student vs teacher" not in md
    assert "## Summary" in md


def assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000
    assert data.startswith(PNG_SIGNATURE)


def test_plot_accuracy_latency(report, many_labels, tmp_path):
    assert_png(plot_accuracy_latency(report, tmp_path / "a.png"))
    assert_png(plot_accuracy_latency(many_labels, tmp_path / "b.png"))


def test_plot_accuracy_latency_without_speed(report, tmp_path):
    for model in report["models"].values():
        model["speed"] = None
    assert_png(plot_accuracy_latency(report, tmp_path / "a.png"))


@pytest.mark.parametrize("n_labels", [2, 20, 77])
def test_plot_confusion(n_labels, tmp_path):
    labels = [f"label_{i}" for i in range(n_labels)]
    matrix = [[5 if i == j else 1 for j in range(n_labels)] for i in range(n_labels)]
    assert_png(plot_confusion(labels, matrix, "test", tmp_path / "c.png"))


def test_plot_confusion_shape_mismatch(tmp_path):
    with pytest.raises(ValueError, match="3 labels need a 3 x 3 matrix, got 2 rows"):
        plot_confusion(["a", "b", "c"], [[1, 2], [3, 4]], "test", tmp_path / "c.png")


def test_write_report(report, tmp_path):
    out = tmp_path / "metrics" / "new"
    paths = write_report(report, out)
    names = ["report.json", "REPORT.md", "accuracy_latency.png"] + [
        f"confusion_{name}.png" for name in ("baseline", "teacher", "student")
    ]
    assert paths == [out / name for name in names]
    assert json.loads((out / "report.json").read_text(encoding="utf8")) == report
    assert (out / "REPORT.md").read_text(encoding="utf8") == render_markdown(report)
    for path in paths[2:]:
        assert_png(path)
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_results_table(report):
    table = results_table(report)
    lines = table.splitlines()
    assert lines[0] == (
        "| model | accuracy [95% CI] | macro-F1 | ms/msg p50 | docs/s | MB on disk "
        "| speed-up vs teacher | gain kept |"
    )
    assert "| student | 0.738 [0.710, 0.764] | 0.737 | 0.0698 | 14,000 | 2.3 | 210x | -20% |" in lines
    assert "| teacher | 0.841 [0.817, 0.862] | 0.840 | 14.7 | 93.4 | 92.0 | – | – |" in lines
    assert lines[-1] == (
        "Measured 2026-11-24T01:23:45+00:00 on AMD EPYC 7B13, 2 cores "
        "(`spacy project run evaluate`), n = 1000 test examples."
    )


def test_student_below_the_baseline_is_said_loudly(report):
    # the sample student (0.738) is below the baseline (0.755) on test
    text = render_markdown(report)
    assert "⚠ **The student 'student' is below the baseline** on test accuracy: 0.738 vs 0.755" in text
    assert text.index("below the baseline") < text.index("## Summary")
    report["models"]["student"]["quality"]["accuracy"] = 0.80
    assert "below the baseline" not in render_markdown(report)
    report["models"]["student"]["dev_score"], report["models"]["baseline"]["dev_score"] = 0.70, 0.72
    assert "on dev score: 0.700 vs 0.720" in render_markdown(report)


def test_teacher_calibration_section(report):
    assert "## Calibration" not in render_markdown(report)
    report["models"]["teacher"]["quality"].update({"temperature": 0.0123, "ece_calibrated": 0.045})
    text = render_markdown(report)
    assert "## Calibration of the teacher's probabilities" in text
    assert "| teacher | 0.0123 | 0.031 | 0.045 |" in text


def test_contended_timing_is_flagged(report):
    assert "shared the CPU" not in render_markdown(report)
    report["models"]["teacher"]["speed"]["contention"] = {
        "other_cpu_share": 0.48, "load_avg_1m": 3.1, "cores": 2, "contended": True, "own_cpu_per_wall": 1.0}
    text = render_markdown(report)
    assert "⚠ **The timing of 'teacher' shared the CPU with other processes** (they used 48% of the 2 cores" in text
