"""The benchmark: the whole workflow on several intent sets, and Rasa's own classifiers on the same
splits, in one table.

Each set runs `spacy project run all` in a folder of its own under `benchmarks/<set>/`, whose
project.yml, configs, scripts, library and assets are links to this project, so that runs of
different sets never overwrite each other or the default run. With a Rasa venv, each student's
wheel is installed there and the held-out messages are parsed through Rasa (`examples/rasa/parse.py`),
next to Rasa's LogisticRegressionClassifier and DIETClassifier trained on the same training split.
"""
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from wasabi import msg

from . import errors
from .data import write_atomic

ROOT = Path(__file__).resolve().parent.parent
LINKED = ("project.yml", "configs", "scripts", "distill_spacy", "assets")
RASA_CONFIGS = {
    "logreg": ROOT / "examples" / "rasa" / "config_logreg.yml",
    "diet": ROOT / "examples" / "rasa" / "config_diet.yml",
}


@dataclass
class BenchmarkSet:
    """One data set of the benchmark and the workflow vars it runs with."""

    name: str
    train: str
    dev: str
    test: str
    unlabelled: str = ""
    # public sets are cut from a folder of text,label CSVs by scripts/prepare_public_set.py
    public_source: Optional[str] = None
    extra_vars: Dict[str, str] = field(default_factory=dict)
    # Rasa's classifiers are compared on intent sets; DIET on 600 long reviews trains for 15+ minutes.
    rasa: bool = True


def default_sets(data_dir: Path) -> Dict[str, BenchmarkSet]:
    """banking77 and SNIPS (600 labelled, 400 dev, the rest of train as unlabelled text) from
    `data_dir`, the shop intents embedded in assets/intents (with 2,052 unlabelled messages, as a
    bot's logs would hold) and the embedded reviews."""
    sets = {
        name: BenchmarkSet(
            name, "data/train.csv", "data/dev.csv", "data/test.csv", "data/unlabelled.txt",
            public_source=str(Path(data_dir).resolve() / name),
        )
        for name in ("banking77", "snips")
    }
    sets["intents"] = BenchmarkSet(
        "intents", "assets/intents/nlu.yml", "assets/intents/nlu_dev.yml", "assets/intents/nlu_test.yml",
        "assets/intents/unlabelled.txt",
    )
    sets["reviews"] = BenchmarkSet(
        "reviews", "assets/reviews/train.csv", "assets/reviews/dev.csv", "assets/reviews/test.csv",
        "assets/reviews/unlabelled.csv", rasa=False,
    )
    return sets


def prepare_workdir(bench: BenchmarkSet, workdir: Path) -> Path:
    """Make benchmarks/<set>/ with links to the project and, for a public set, its data."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = workdir / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    if bench.public_source is not None and not (workdir / bench.train).exists():
        source = Path(bench.public_source)
        if not (source / "train.csv").exists():
            raise FileNotFoundError(errors.E_BENCHMARK_NO_DATA.format(path=source / "train.csv"))
        run([sys.executable, str(ROOT / "scripts" / "prepare_public_set.py"), str(source), str(workdir / "data")])
    return workdir


def run(cmd: Sequence[str], cwd: Optional[Path] = None, log: Optional[Path] = None) -> float:
    """Run a command, its output into `log` (or the terminal); RETURNS its wall time in seconds."""
    start = time.perf_counter()
    if log is None:
        result = subprocess.run(list(cmd), cwd=cwd)
    else:
        with log.open("w", encoding="utf8") as f:
            result = subprocess.run(list(cmd), cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        where = f" (log: {log})" if log else ""
        command = " ".join(map(str, cmd))
        raise RuntimeError(errors.E_BENCHMARK_STEP.format(command=command, code=result.returncode, where=where))
    return time.perf_counter() - start


def run_workflow(bench: BenchmarkSet, workdir: Path, force: bool = False) -> Dict:
    """`spacy project run all` on the set in its folder; RETURNS the row of the benchmark table."""
    vars_ = {
        "train": bench.train, "dev": bench.dev, "test": bench.test, "unlabelled": bench.unlabelled,
        "name": f"{bench.name}_student", **bench.extra_vars,
    }
    cmd = [sys.executable, "-m", "spacy", "project", "run", "all", "."]
    for key, value in vars_.items():
        cmd += [f"--vars.{key}", value]
    if force:
        cmd.append("--force")
    msg.info(f"{bench.name}: {' '.join(cmd[2:])} (in {workdir}; log in {workdir / 'all.log'})")
    wall = run(cmd, cwd=workdir, log=workdir / "all.log")
    # A rerun that skips steps takes less time than the workflow: report the wall time of the last
    # run that ran every step (from preprocess on), e.g. with --force.
    timing = workdir / "all.wall.json"
    log = (workdir / "all.log").read_text(encoding="utf8", errors="replace")
    if "scripts/preprocess.py" in log or not timing.exists():
        write_atomic(timing, json.dumps({"wall_s": wall, "command": " ".join(cmd)}) + "\n")
    else:
        wall = json.loads(timing.read_text(encoding="utf8"))["wall_s"]
    report = json.loads((workdir / "metrics" / "report.json").read_text(encoding="utf8"))
    calibration = json.loads((workdir / "training" / "teacher" / "calibration.json").read_text(encoding="utf8"))
    labels_summary = json.loads((workdir / "corpus" / "transfer.labels.json").read_text(encoding="utf8"))
    return {
        "set": bench.name,
        "vars": vars_,
        "wall_s": wall,
        "n_labels": len(report["labels"]),
        "n_test": report["n"],
        "transfer_texts": labels_summary["texts"],
        "report": str(workdir / "metrics" / "report.json"),
        "calibration": calibration,
        "models": {
            name: {
                "accuracy": model["quality"]["accuracy"],
                "macro_f1": model["quality"]["macro_f1"],
                "ece": model["quality"]["ece"],
                "ece_calibrated": model["quality"].get("ece_calibrated"),
                "latency_ms_p50": (model.get("speed") or {}).get("latency_ms_p50"),
                "folder_bytes": model["size"]["folder_bytes"],
                "wheel_bytes": model["size"]["wheel_bytes"],
                "wheel": model["size"]["wheel"],
            }
            for name, model in report["models"].items()
        },
        "student_vs_teacher": report["comparisons"].get("student", {}),
    }


def run_rasa(row: Dict, workdir: Path, rasa_python: Path, n_timed: int = 200) -> Dict:
    """Parse the set's test messages through Rasa: the distilled student (its wheel installed in
    the Rasa venv), LogisticRegressionClassifier and DIETClassifier trained on the same split.
    RETURNS {classifier: {"accuracy", "parse_ms_p50", "train_s"}}."""
    results = {}
    wheel = workdir / row["models"]["student"]["wheel"]  # relative to the set's folder
    package = wheel.name.split("-")[0]  # <lang>_<name>, as `spacy package` named the wheel
    # Installed even when results are reused: the venv must hold this set's student afterwards too.
    run([str(rasa_python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(wheel)],
        log=workdir / "rasa_install.log")
    train, test = workdir / row["vars"]["train"], workdir / row["vars"]["test"]
    parse = ROOT / "examples" / "rasa" / "parse.py"
    configs = {"student": (ROOT / "examples" / "rasa" / "config.yml", ["--model", package]), **{
        name: (path, []) for name, path in RASA_CONFIGS.items()
    }}
    for name, (config, extra) in configs.items():
        out = workdir / f"rasa_{name}.json"
        inputs = [config, train, test] + ([wheel] if name == "student" else [])
        fresh = out.exists() and all(out.stat().st_mtime > p.stat().st_mtime for p in inputs)
        if fresh:
            msg.info(f"{row['set']}: Rasa with {name}: reusing {out} (newer than its config, data and wheel)")
        else:
            msg.info(f"{row['set']}: Rasa with {name} ({config.name})")
        try:
            if not fresh:
                run([str(rasa_python), str(parse), "--config", str(config), *extra, "--nlu", str(train),
                     "--messages", str(test), "--json", str(out), "--benchmark", str(n_timed)],
                    log=workdir / f"rasa_{name}.log")
        except RuntimeError as e:  # e.g. DIET's TensorFlow missing from the venv: reported, not fatal
            msg.warn(str(e))
            results[name] = {"error": str(e)}
            continue
        data = json.loads(out.read_text(encoding="utf8"))
        results[name] = {
            "accuracy": data.get("accuracy"),
            "parse_ms_p50": data["benchmark"]["rasa_parse_message_ms"],
            "train_s": data["train_s"],
        }
    return results


def _f(value: Optional[float], digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def benchmark_table(rows: List[Dict]) -> str:
    """The benchmark as Markdown: one row per set."""
    headers = [
        "set (labels, test n)", "baseline", "teacher", "teacher ECE → at T (T)", "student",
        "gain kept", "student − teacher", "speed-up p50", "student wheel MB", "wall time of `all`",
        "Rasa: student / LogReg / DIET accuracy", "Rasa parse ms p50: student / LogReg / DIET",
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        m, comp, cal = row["models"], row["student_vs_teacher"], row["calibration"]
        diff = (comp.get("accuracy_diff_vs_teacher") or {}).get("diff")
        rasa = row.get("rasa") or {}
        rasa_acc = " / ".join(_f((rasa.get(k) or {}).get("accuracy")) for k in ("student", "logreg", "diet"))
        rasa_ms = " / ".join(_f((rasa.get(k) or {}).get("parse_ms_p50"), 2) for k in ("student", "logreg", "diet"))
        wheel = m["student"]["wheel_bytes"]
        cells = [
            f"{row['set']} ({row['n_labels']}, {row['n_test']})",
            _f(m["baseline"]["accuracy"]),
            _f(m["teacher"]["accuracy"]),
            f"{_f(m['teacher']['ece'])} → {_f(m['teacher']['ece_calibrated'])} ({cal['temperature']:.3g})",
            f"**{_f(m['student']['accuracy'])}**",
            "–" if comp.get("gain_kept") is None else f"{100 * comp['gain_kept']:.0f}%",
            "–" if diff is None else f"{100 * diff:+.1f} points",
            "–" if comp.get("speedup_p50") is None else f"{comp['speedup_p50']:.0f}x",
            "–" if wheel is None else f"{wheel / 1e6:.1f}",
            f"{row['wall_s'] / 60:.1f} min",
            rasa_acc if rasa else "not run",
            rasa_ms if rasa else "not run",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_benchmark(rows: List[Dict], output: Path, command: str) -> str:
    """Write benchmark.json and BENCHMARK.md beside it; RETURNS the Markdown table with its footer."""
    import datetime
    import platform

    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    footer = (
        f"Measured {created} on {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(`{command}`). Accuracy on each set's test split; Rasa columns parse the same test messages "
        "through `Agent.parse_message` after `train_nlu` on the same training split."
    )
    table = benchmark_table(rows) + "\n\n" + footer
    write_atomic(output, json.dumps({"created": created, "command": command, "sets": rows}, indent=2) + "\n")
    write_atomic(output.with_name("BENCHMARK.md"), "# Benchmark\n\n" + table + "\n")
    return table
