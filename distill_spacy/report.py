"""Render the evaluation report (metrics/report.json) as Markdown, plots and a README results table."""
import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import errors
from .data import write_atomic
from .formatting import (  # noqa: F401  (update_readme: also importable from here, as before)
    MISSING,
    PathLike,
    _cell,
    confusion_filename,
    _count,
    _fixed,
    _get,
    _int,
    _mb,
    _num,
    _percent,
    _points,
    _table,
    _times,
    _with_ci,
    update_readme,
)
from .plots import plot_accuracy_latency, plot_confusion, plot_search_front  # noqa: F401
from .search_report import SEARCH_PLOT, load_search, search_section
# Above these sizes a table of every label stops being readable.
MAX_PER_CLASS_LABELS = 30
PER_CLASS_SHOWN = 10
MAX_CONFUSION_TABLE_LABELS = 12


# Markdown sections


def _header(report: Dict) -> str:
    machine = report.get("machine") or {}
    timing = report.get("timing") or {}
    labels = report.get("labels") or []
    machine_text = ", ".join([
        str(machine.get("cpu", MISSING)),
        f"{machine.get('cores', MISSING)} cores",
        str(machine.get("platform", MISSING)),
        f"Python {machine.get('python', MISSING)}",
        f"spaCy {machine.get('spacy', MISSING)}",
        f"torch threads {machine.get('torch_threads', MISSING)}",
    ])
    timing_text = (
        f"{timing.get('repeats', MISSING)} repeats (medians reported), "
        f"{timing.get('warmup', MISSING)} warm-up docs, "
        f"{timing.get('n_single', MISSING)} docs one by one (`nlp(text)`), "
        f"{timing.get('n_pipe', MISSING)} docs through `nlp.pipe` "
        f"(batch size {timing.get('batch_size', MISSING)})"
    )
    return "\n".join([
        "# Evaluation report",
        "",
        f"- Created: {report.get('created', MISSING)}",
        f"- Machine: {machine_text}",
        f"- Test set: `{report.get('test', MISSING)}`, n = {report.get('n', MISSING)}, "
        f"{len(labels)} labels",
        f"- Timing: {timing_text}",
        f"- Command: `{report.get('command', MISSING)}`",
    ])


def _summary(report: Dict) -> str:
    headers = [
        "model", "role", "accuracy [95% CI]", "macro-F1", "ECE", "agreement with teacher",
        "p50 ms", "p95 ms", "docs/s (pipe)", "folder MB", "wheel MB", "params", "RSS added MB",
    ]
    rows = []
    for name, model in report.get("models", {}).items():
        quality, speed, size = model.get("quality"), model.get("speed"), model.get("size")
        rows.append([
            name,
            model.get("role", MISSING),
            _with_ci(_get(quality, "accuracy"), _get(quality, "accuracy_ci95")),
            _fixed(_get(quality, "macro_f1")),
            _fixed(_get(quality, "ece")),
            _fixed(_get(quality, "agreement_with_teacher")),
            _num(_get(speed, "latency_ms_p50")),
            _num(_get(speed, "latency_ms_p95")),
            _num(_get(speed, "pipe_docs_per_s")),
            _mb(_get(size, "folder_bytes")),
            _mb(_get(size, "wheel_bytes")),
            _count(_get(size, "params")),
            _mb(_get(size, "rss_added_bytes")),
        ])
    return "\n".join([
        "## Summary",
        "",
        _table(headers, rows, left=2),
        "",
        "Accuracy intervals are 95% Wilson intervals; ECE is the expected calibration error (15 bins). "
        "Latency is per message (`nlp(text)`) and docs/s is `nlp.pipe` throughput, on a warm CPU. "
        "MB = 10^6 bytes; RSS added is the resident memory that loading the model adds to a fresh process "
        "already running a blank pipeline of the same language (so installed plugins such as PyTorch "
        "are not counted: the teacher needs them on top). "
        f"{MISSING} = not measured.",
    ])


def _comparisons(report: Dict) -> str:
    headers = [
        "student", "speed-up p50", "speed-up pipe", "size reduction folder", "size reduction RSS",
        "gain kept", "accuracy vs teacher (points)", "accuracy vs baseline (points)",
    ]
    rows = [
        [
            name,
            _times(comp.get("speedup_p50")),
            _times(comp.get("speedup_pipe")),
            _times(comp.get("size_reduction_folder")),
            _times(comp.get("size_reduction_rss")),
            _percent(comp.get("gain_kept")),
            _points(comp.get("accuracy_diff_vs_teacher")),
            _points(comp.get("accuracy_diff_vs_baseline")),
        ]
        for name, comp in report["comparisons"].items()
    ]
    return "\n".join([
        "## Student vs teacher",
        "",
        _table(headers, rows),
        "",
        "Speed-ups and size reductions are teacher / student. Gain kept is the share of the "
        "teacher's accuracy gain over the baseline that the student keeps (100% = as accurate as "
        "the teacher, 0% = no better than the baseline). Accuracy differences are in percentage "
        "points with paired-bootstrap 95% intervals: an interval that excludes 0 is a real "
        "difference at 95%.",
    ])


def _calibration(report: Dict) -> str:
    """The teacher's calibration: ECE on test before and after its dev-fitted temperature."""
    rows = [
        [name, _num(_get(model, "quality", "temperature")), _fixed(_get(model, "quality", "ece")),
         _fixed(_get(model, "quality", "ece_calibrated"))]
        for name, model in report.get("models", {}).items()
        if _get(model, "quality", "temperature") is not None
    ]
    if not rows:
        return ""
    return "\n".join([
        "## Calibration of the teacher's probabilities",
        "",
        _table(["model", "temperature T", "ECE on test", "ECE on test at T"], rows),
        "",
        "T is fitted on the dev set by negative log-likelihood (temperature scaling, Guo et al. 2017) "
        "and divides the teacher's logits when it labels the transfer set; it changes no prediction. "
        "T < 1 sharpens probabilities that are too flat.",
    ])


def timing_warnings(report: Dict) -> List[str]:
    """Models whose timing shared the CPU with other processes: their speed figures are not reliable."""
    warnings = []
    for name, model in report.get("models", {}).items():
        contention = _get(model, "speed", "contention") or {}
        if contention.get("contended"):
            warnings.append(
                f"**The timing of {name!r} shared the CPU with other processes** (they used "
                f"{100 * contention['other_cpu_share']:.0f}% of the {contention.get('cores', MISSING)} cores; "
                f"load average {contention.get('load_avg_1m', MISSING)}): its latency and throughput, and "
                "the speed-ups computed from them, overstate the cost. Rerun `evaluate` on an idle machine."
            )
    return warnings


def student_warnings(report: Dict) -> List[str]:
    """Students that score below the baseline, on test or on dev (the dev score of training)."""
    models = report.get("models", {})
    baseline = next((m for m in models.values() if m.get("role") == "baseline"), None)
    if baseline is None:
        return []
    warnings = []
    for name, model in models.items():
        if model.get("role") != "student":
            continue
        for where, key in (("test accuracy", ("quality", "accuracy")), ("dev score", ("dev_score",))):
            ours, theirs = _get(model, *key), _get(baseline, *key)
            if ours is not None and theirs is not None and ours < theirs:
                warnings.append(
                    f"**The student {name!r} is below the baseline** on {where}: {ours:.3f} vs {theirs:.3f}. "
                    "The baseline (a bag-of-words textcat on the gold labels) serves better here; see the "
                    "README's \"Many intents, few examples\" for what to change."
                )
    return warnings


def _lowest_f1(report: Dict, name: str) -> List[str]:
    """The labels where a model has the lowest F1, lowest first (labels without F1 last)."""
    per_class = _get(report["models"][name], "quality", "per_class") or {}
    f1 = {label: _get(per_class, label, "f1") for label in report["labels"]}
    return sorted(f1, key=lambda label: (f1[label] is None, f1[label] or 0.0))[:PER_CLASS_SHOWN]


def _per_class(report: Dict) -> str:
    labels = report.get("labels") or []
    models = report.get("models", {})
    shown = labels
    parts = ["## Per class"]
    if len(labels) > MAX_PER_CLASS_LABELS and models:
        # The first student is the model the report is about; fall back to the first model.
        focus = next((n for n, m in models.items() if m.get("role") == "student"), next(iter(models)))
        shown = _lowest_f1(report, focus)
        parts += [
            "",
            f"{len(labels)} labels: showing the {len(shown)} with the lowest F1 of `{focus}`, "
            "lowest first. report.json holds all of them.",
        ]
    for name, model in models.items():
        per_class = _get(model, "quality", "per_class") or {}
        rows = [
            [
                label,
                _fixed(_get(per_class, label, "p")),
                _fixed(_get(per_class, label, "r")),
                _fixed(_get(per_class, label, "f1")),
                _int(_get(per_class, label, "support")),
            ]
            for label in shown
        ]
        parts += ["", f"### {name}", "", _table(["label", "precision", "recall", "F1", "support"], rows)]
    return "\n".join(parts)


def _confusions(report: Dict) -> str:
    labels = report.get("labels") or []
    parts = ["## Confusion matrices", "", "Rows are gold labels, columns predicted labels."]
    for name, model in report.get("models", {}).items():
        matrix = _get(model, "quality", "confusion")
        if not matrix:
            continue
        parts += ["", f"### {name}", ""]
        if len(labels) <= MAX_CONFUSION_TABLE_LABELS:
            rows = [[label] + list(counts) for label, counts in zip(labels, matrix)]
            parts += [_table(["gold \\ predicted"] + list(labels), rows), ""]
        parts.append(f"![Confusion matrix: {name}]({confusion_filename(name)})")
    return "\n".join(parts)


def ablation_rows(ablation: Dict) -> Tuple[List[str], List[List[str]]]:
    """The ablation table (ablation.json's variants): header and one row per variant."""
    headers = [
        "variant", "description", "transfer size", "accuracy [95% CI]", "macro-F1",
        "agreement with teacher", "gain kept",
    ]
    rows = [
        [
            variant.get("name", MISSING),
            variant.get("description", MISSING),
            _int(variant.get("transfer_size")),
            _with_ci(variant.get("accuracy"), variant.get("accuracy_ci95")),
            _fixed(variant.get("macro_f1")),
            _fixed(variant.get("agreement_with_teacher")),
            _percent(variant.get("gain_kept")),
        ]
        for variant in ablation.get("variants", [])
    ]
    return headers, rows


def _ablation(report: Dict) -> str:
    ablation = report["ablation"]
    headers, rows = ablation_rows(ablation)
    return "\n".join([
        "## Ablations",
        "",
        f"- Baseline accuracy: {_fixed(ablation.get('baseline_accuracy'))}",
        f"- Teacher accuracy: {_fixed(ablation.get('teacher_accuracy'))}",
        f"- Test examples: n = {ablation.get('n', MISSING)}",
        "",
        _table(headers, rows, left=2),
    ])


def render_markdown(report: Dict) -> str:
    """Render the report as the Markdown document metrics/REPORT.md.

    report (Dict): The evaluation report (schema: metrics/report.json). Missing or null fields,
        and models without speed, render as "–"; sections without data are left out.
    RETURNS (str): The document. Images are linked by file name (accuracy_latency.png,
        confusion_<name>.png), so it belongs in the folder that `write_report` fills.
    """
    sections = [
        _header(report),
        "![Accuracy against p50 latency](accuracy_latency.png)",
    ]
    sections += [f"> ⚠ {w}" for w in student_warnings(report) + timing_warnings(report)]
    sections.append(_summary(report))
    calibration = _calibration(report)
    if calibration:
        sections.append(calibration)
    if report.get("comparisons"):
        sections.append(_comparisons(report))
    sections += [_per_class(report), _confusions(report)]
    if report.get("ablation"):
        sections.append(_ablation(report))
    if report.get("search"):
        sections.append(search_section(report["search"]))
    return "\n\n".join(sections) + "\n"


# Outputs


def write_report(report: Dict, output_dir: PathLike) -> List[Path]:
    """Write report.json, REPORT.md, accuracy_latency.png and confusion_<name>.png per model.

    report (Dict): The evaluation report.
    output_dir (PathLike): The folder (created if needed). Each file is written atomically.
    RETURNS (List[Path]): The paths written. Models without a confusion matrix get no plot.
    """
    output_dir = Path(output_dir)
    # Render before writing: a report that cannot be rendered leaves the old files in place.
    markdown = render_markdown(report)
    paths = [output_dir / "report.json", output_dir / "REPORT.md"]
    write_atomic(paths[0], json.dumps(report, indent=2, ensure_ascii=False).encode("utf8"))
    write_atomic(paths[1], markdown.encode("utf8"))
    paths.append(plot_accuracy_latency(report, output_dir / "accuracy_latency.png"))
    if report.get("search"):
        paths.append(plot_search_front(report["search"], output_dir / SEARCH_PLOT))
    labels = report.get("labels") or []
    for name, model in report.get("models", {}).items():
        matrix = _get(model, "quality", "confusion")
        if matrix:
            title = f"{name}: confusion matrix (n = {sum(map(sum, matrix))})"
            paths.append(plot_confusion(labels, matrix, title, output_dir / confusion_filename(name)))
    return paths


EVALUATION_FILE = "evaluation.json"


def write_evaluation(evaluation: Dict, output_dir: PathLike) -> Path:
    """Write what `evaluate` measured to `<output_dir>/evaluation.json` (atomically).

    evaluation (Dict): `evaluate.evaluate_models`' result, with "sources": {"wheel_dir", "ablation"}
        naming where `build_report` finds the wheels and the ablation results.
    RETURNS (Path): The file.
    """
    path = Path(output_dir) / EVALUATION_FILE
    write_atomic(path, json.dumps(evaluation, indent=2, ensure_ascii=False).encode("utf8"))
    return path


def build_report(output_dir: PathLike) -> Dict:
    """Assemble and write the report from evaluation.json, the wheels and the ablation results.

    report.json = evaluation.json + the size of the wheel that packs each model's exact weights (in
    the wheel folder evaluate was given) + ablation.json when it exists. It is rebuilt after
    `package` and `ablate` without measuring again, and evaluation.json, the output that
    `spacy project` tracks for `evaluate`, stays as evaluate wrote it.

    output_dir (PathLike): The metrics folder holding evaluation.json.
    RETURNS (Dict): The report, written with REPORT.md and the plots by `write_report`.
    """
    from .evaluate import attach_wheels  # evaluate imports scikit-learn; rendering alone does not need it

    path = Path(output_dir) / EVALUATION_FILE
    if not path.exists():
        raise FileNotFoundError(errors.E_NO_EVALUATION.format(path=path))
    report = json.loads(path.read_text(encoding="utf8"))
    sources = report.get("sources") or {}
    attach_wheels(report, sources.get("wheel_dir"))
    report["ablation"] = load_ablation(sources.get("ablation"))
    report["search"] = load_search(output_dir)
    write_report(report, output_dir)
    return report


def load_ablation(path: Optional[PathLike]) -> Optional[Dict]:
    """The ablation results (`metrics/ablation.json` from the ablate command), or None if there are none."""
    if path is None or not Path(path).exists():
        return None
    return json.loads(Path(path).read_text(encoding="utf8"))


def summary_rows(report: Dict) -> Tuple[List[str], List[List[str]]]:
    """A short summary for the terminal: header and one row per model."""
    header = ["model", "accuracy [95% CI]", "macro-F1", "ms/msg p50", "docs/s", "MB on disk", "gain kept"]
    rows = [
        [
            name,
            _with_ci(_get(model, "quality", "accuracy"), _get(model, "quality", "accuracy_ci95")),
            _fixed(_get(model, "quality", "macro_f1")),
            _num(_get(model, "speed", "latency_ms_p50")),
            _num(_get(model, "speed", "pipe_docs_per_s")),
            _mb(_get(model, "size", "folder_bytes")),
            _percent(_get(report, "comparisons", name, "gain_kept")),
        ]
        for name, model in report.get("models", {}).items()
    ]
    return header, rows


def results_table(report: Dict) -> str:
    """A compact Markdown results table for the README, with a line on where it was measured.

    report (Dict): The evaluation report. Speed-up and gain kept are filled for students only.
    RETURNS (str): The table and the "Measured ..." line.
    """
    headers = [
        "model", "accuracy [95% CI]", "macro-F1", "ms/msg p50", "docs/s", "MB on disk",
        "speed-up vs teacher", "gain kept",
    ]
    comparisons = report.get("comparisons") or {}
    rows = []
    for name, model in report.get("models", {}).items():
        quality, speed = model.get("quality"), model.get("speed")
        rows.append([
            name,
            _with_ci(_get(quality, "accuracy"), _get(quality, "accuracy_ci95")),
            _fixed(_get(quality, "macro_f1")),
            _num(_get(speed, "latency_ms_p50")),
            _num(_get(speed, "pipe_docs_per_s")),
            _mb(_get(model, "size", "folder_bytes")),
            _times(_get(comparisons, name, "speedup_p50")),
            _percent(_get(comparisons, name, "gain_kept")),
        ])
    machine = report.get("machine") or {}
    measured = (
        f"Measured {report.get('created', MISSING)} on {machine.get('cpu', MISSING)}, "
        f"{machine.get('cores', MISSING)} cores (`{report.get('command', MISSING)}`), "
        f"n = {report.get('n', MISSING)} test examples."
    )
    return f"{_table(headers, rows)}\n\n{measured}"

