import pytest

from distill_spacy import benchmark
from distill_spacy.benchmark import benchmark_table, default_sets, prepare_workdir

ROW = {
    "set": "banking77", "n_labels": 77, "n_test": 3080, "wall_s": 900.0,
    "calibration": {"temperature": 0.0456},
    "models": {
        "baseline": {"accuracy": 0.529, "ece": 0.1, "ece_calibrated": None},
        "teacher": {"accuracy": 0.80, "ece": 0.6, "ece_calibrated": 0.05},
        "student": {"accuracy": 0.79, "ece": 0.1, "ece_calibrated": None, "wheel_bytes": 2_500_000},
    },
    "student_vs_teacher": {"gain_kept": 0.963, "speedup_p50": 120.0,
                           "accuracy_diff_vs_teacher": {"diff": -0.01, "ci95": [-0.02, 0.0]}},
}


def test_table_row():
    table = benchmark_table([ROW])
    row = table.splitlines()[2]
    assert row.startswith("| banking77 (77, 3080) | 0.529 | 0.800 | 0.600 → 0.050 (0.0456) | **0.790** | 96% | -1.0 points | 120x | 2.5 | 15.0 min |")
    assert row.endswith("| not run | not run |")
    with_rasa = dict(ROW, rasa={"student": {"accuracy": 0.9, "parse_ms_p50": 0.5},
                                "logreg": {"accuracy": 0.8, "parse_ms_p50": 1.25}, "diet": {"error": "no tf"}})
    assert "| 0.900 / 0.800 / – | 0.50 / 1.25 / – |" in benchmark_table([with_rasa])


def test_default_sets():
    sets = default_sets("somewhere")
    assert sorted(sets) == ["banking77", "intents", "reviews", "snips"]
    assert sets["intents"].dev.endswith("nlu_dev.yml") and sets["intents"].unlabelled.endswith("unlabelled.txt")
    assert sets["banking77"].unlabelled == "data/unlabelled.txt"


def test_workdir_links_the_project(tmp_path):
    bench = default_sets(tmp_path)["intents"]
    folder = prepare_workdir(bench, tmp_path / "intents")
    for name in benchmark.LINKED:
        assert (folder / name).resolve() == (benchmark.ROOT / name).resolve()
    prepare_workdir(bench, folder)  # again: links kept


def test_missing_public_data_says_how_to_fix(tmp_path):
    bench = default_sets(tmp_path / "nowhere")["banking77"]
    with pytest.raises(FileNotFoundError, match="Fix: pass --data-dir"):
        prepare_workdir(bench, tmp_path / "banking77")


def test_failed_command_names_its_log(tmp_path):
    with pytest.raises(RuntimeError, match="exit code 3.*log"):
        benchmark.run(["python", "-c", "raise SystemExit(3)"], log=tmp_path / "log.txt")
