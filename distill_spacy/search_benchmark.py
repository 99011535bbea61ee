"""The search benchmark: on each set, the default student against the one the search chooses.

Each set runs in its benchmark folder (`benchmarks/<set>/`, as `distill_spacy.benchmark` makes it):
`spacy project run all` (the default student; its report is kept as `metrics/report.default.json`),
then `spacy project run search`, then `spacy project run all . --vars.student_arch search` (the
chosen student, trained, measured on test and packaged). The row compares the two on test: the
target is a chosen student at least 1 point more accurate at no more than twice the default's p50
latency, or the default on the front. `configs` in each folder is a folder of links, so that each
set's `configs/student_search.cfg` is its own.

"sentences" is the embedded reviews cut to single sentences (`write_sentence_set`): short texts,
each with its review's label, and the unlabelled reviews' sentences as unlabelled text.
"""
import csv
import json
import random
import shutil
import time
from pathlib import Path
from typing import Dict, List, Optional

from wasabi import msg

from .benchmark import ROOT, BenchmarkSet, default_sets, prepare_workdir, run
from .data import read_records, read_texts, write_atomic
from .formatting import _table
from .search_choice import best_rival

TARGET_POINTS = 0.01
TARGET_LATENCY = 2.0


def search_sets(data_dir: Path) -> Dict[str, BenchmarkSet]:
    """The benchmark's sets plus "sentences" (the reviews cut to single sentences)."""
    sets = default_sets(data_dir)
    sets["sentences"] = BenchmarkSet("sentences", "data/train.csv", "data/dev.csv", "data/test.csv",
                                     "data/unlabelled.txt", rasa=False)
    return sets


def split_sentences(texts: List[str]) -> List[List[str]]:
    """The sentences of each text (spaCy's rule-based sentencizer)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return [[s.text.strip() for s in doc.sents if s.text.strip()] for doc in nlp.pipe(texts)]


def write_sentence_set(folder: Path, seed: int = 0) -> None:
    """The reviews cut to one sentence each (drawn with `seed`), labels kept; every sentence of
    the unlabelled reviews as unlabelled text. Writes <folder>/{train,dev,test}.csv, unlabelled.txt."""
    rng = random.Random(seed)
    reviews = ROOT / "assets" / "reviews"
    for split in ("train", "dev", "test"):
        records = read_records(reviews / f"{split}.csv", "text", "label")
        sentences = split_sentences([r.text for r in records])
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{split}.csv").open("w", encoding="utf8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            for record, sents in zip(records, sentences):
                writer.writerow([rng.choice(sents) if sents else record.text, record.label])
    unlabelled = split_sentences(read_texts(reviews / "unlabelled.csv", "text"))
    lines = list(dict.fromkeys(s.replace("\n", " ") for sents in unlabelled for s in sents))
    write_atomic(folder / "unlabelled.txt", "\n".join(lines) + "\n")


def prepare_search_workdir(bench: BenchmarkSet, workdir: Path) -> Path:
    """The set's folder with `configs` as a folder of links, and the sentence set's data."""
    configs = workdir / "configs"
    if configs.is_symlink():
        configs.unlink()
    configs.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "configs").glob("*.cfg"):
        if path.name != "student_search.cfg" and not (configs / path.name).exists():
            (configs / path.name).symlink_to(path)
    if bench.name == "sentences" and not (workdir / bench.train).exists():
        write_sentence_set(workdir / "data")
    return prepare_workdir(bench, workdir)


def project_run(command: str, workdir: Path, vars_: Dict[str, str], log: str) -> float:
    import sys

    cmd = [sys.executable, "-m", "spacy", "project", "run", command, "."]
    for key, value in vars_.items():
        cmd += [f"--vars.{key}", str(value)]
    msg.info(f"{workdir.name}: {' '.join(cmd[2:])} (log: {workdir / log})")
    return run(cmd, cwd=workdir, log=workdir / log)


def student_figures(report: Dict) -> Dict[str, Optional[float]]:
    student = report["models"]["student"]
    return {"accuracy": student["quality"]["accuracy"], "macro_f1": student["quality"]["macro_f1"],
            "latency_ms_p50": (student.get("speed") or {}).get("latency_ms_p50"),
            "folder_bytes": student["size"]["folder_bytes"]}


def run_set(bench: BenchmarkSet, workdir: Path, search_vars: Dict[str, str]) -> Dict:
    """Default `all`, the search, `all` with the chosen student; RETURNS the row."""
    vars_ = {"train": bench.train, "dev": bench.dev, "test": bench.test, "unlabelled": bench.unlabelled,
             "name": f"{bench.name}_student", **bench.extra_vars}
    project_run("all", workdir, vars_, "all.log")
    metrics = workdir / "metrics"
    shutil.copyfile(metrics / "report.json", metrics / "report.default.json")
    start = time.perf_counter()
    project_run("search", workdir, {**vars_, **search_vars}, "search.log")
    search_s = time.perf_counter() - start
    project_run("all", workdir, {**vars_, **search_vars, "student_arch": "search"}, "all_search.log")
    default = student_figures(json.loads((metrics / "report.default.json").read_text(encoding="utf8")))
    chosen = student_figures(json.loads((metrics / "report.json").read_text(encoding="utf8")))
    search = json.loads((metrics / "search.json").read_text(encoding="utf8"))
    gain = chosen["accuracy"] - default["accuracy"]
    ratio = chosen["latency_ms_p50"] / default["latency_ms_p50"] if default["latency_ms_p50"] else None
    default_on_front = any(t["default"] and t.get("on_front") for t in search["trials"])
    rival = best_rival(search["trials"], search["latency_budget_ms"])
    return {
        "set": bench.name, "vars": {**vars_, **search_vars}, "search_s": search_s,
        "counts": search["counts"], "front": search["front"], "chosen_trial": search["chosen_trial"],
        "default_on_front": default_on_front, "default": default, "chosen": chosen, "rival": rival,
        "accuracy_gain": gain, "latency_ratio": ratio,
        "target_met": (gain >= TARGET_POINTS and ratio is not None and ratio <= TARGET_LATENCY) or default_on_front,
        "report": str(metrics / "REPORT.md"),
    }


def search_benchmark_table(rows: List[Dict]) -> str:
    """One row per set: the default and the chosen student on test, and the search's counts."""
    headers = ["set", "default: test acc / p50 ms / MB", "chosen: test acc / p50 ms / MB", "gain (points)",
               "latency ratio", "trials (complete / pruned / failed)", "default on front",
               "best other on dev: gain, lower bound (points)", "search wall", "target met"]
    rows_out = []
    for r in rows:
        d, c = r["default"], r["chosen"]
        cell = lambda s: f"{s['accuracy']:.3f} / {s['latency_ms_p50']:.3g} / {s['folder_bytes'] / 1e6:.1f}"  # noqa: E731
        n = r["counts"]
        rows_out.append([
            r["set"], cell(d), cell(c), f"{100 * r['accuracy_gain']:+.1f}",
            "–" if r["latency_ratio"] is None else f"{r['latency_ratio']:.2f}x",
            f"{n['complete']} / {n['pruned']} / {n['failed']}", "yes" if r["default_on_front"] else "no",
            rival_cell(r.get("rival")),
            f"{r['search_s'] / 60:.1f} min", "yes" if r["target_met"] else "no",
        ])
    return _table(headers, rows_out)


def rival_cell(rival: Optional[Dict]) -> str:
    if not rival:
        return "–"
    bound = rival.get("dev_gain_lower")
    return (f"trial {rival['trial']}: {100 * rival['dev_gain']:+.1f}"
            + ("" if bound is None else f", {100 * bound:+.1f}"))
