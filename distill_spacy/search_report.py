"""The search's section of metrics/REPORT.md (from metrics/search.json): the front as a table."""
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .formatting import MISSING, PathLike, _fixed, _num, _table

SEARCH_FILE = "search.json"
SEARCH_PLOT = "search_front.png"


def load_search(metrics_dir: PathLike) -> Optional[Dict[str, Any]]:
    """metrics/search.json (from `spacy project run search`), or None if the search has not run."""
    path = Path(metrics_dir) / SEARCH_FILE
    return json.loads(path.read_text(encoding="utf8")) if path.exists() else None


def describe_student(params: Dict[str, Any]) -> str:
    """A trial's student in a few words: "bow 2-grams 2^18 rows", "cnn 64x2 + vectors"."""
    arch = params.get("arch", MISSING)
    parts = [arch]
    if "ngram_size" in params:
        parts.append(f"{params['ngram_size']}-grams 2^{params['length_log2']} rows")
    if "width" in params:
        parts.append(f"{params['width']}x{params['depth']}" + (" + vectors" if params.get("static_vectors") else ""))
    return " ".join(parts)


def describe_training(params: Dict[str, Any]) -> str:
    """Epochs, learning rate and loss: "4 ep, lr 0.001, kl T=1 a=0.5"."""
    loss = params.get("loss", MISSING)
    if "temperature" in params:
        loss += f" T={params['temperature']:g}"
    return f"{params.get('epochs', MISSING)} ep, lr {params.get('learn_rate', 0):.2g}, {loss} a={params.get('alpha', 0):g}"


def describe_makeup(makeup: Dict[str, Any]) -> str:
    """The transfer set: "train + unlabelled, n_iter 1 (mask, ngram)"."""
    if not makeup:
        return MISSING
    text = "train + unlabelled" if makeup.get("unlabelled") else "train"
    if makeup.get("n_iter"):
        on = [name[2:] for name in ("p_mask", "p_pos", "p_ng", "p_sent") if makeup.get(name)]
        text += f", n_iter {makeup['n_iter']} ({', '.join(on) or 'no method'})"
    return text


def front_rows(search: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """The front's trials, fastest first, with the default student's row even when it is dominated."""
    metric = search.get("metric", "score")
    headers = ["trial", "", "student", "training", "transfer set", "texts", f"dev {metric}",
               "gain over default, lower bound", "p50 ms", "p95 ms", "folder MB", "stopped"]
    by_number = {t["number"]: t for t in search.get("trials", [])}
    numbers = list(search.get("front", []))
    default = search.get("default_trial")
    if default in by_number and default not in numbers and by_number[default].get("state") == "COMPLETE":
        numbers.append(default)
    rows = []
    for number in numbers:
        t = by_number[number]
        marks = [m for m, key in (("default", "default"), ("**chosen**", "chosen")) if t.get(key)]
        if not t.get("on_front"):
            marks.append("dominated")
        rows.append([
            str(number), ", ".join(marks), describe_student(t.get("params", {})),
            describe_training(t.get("params", {})), describe_makeup(t.get("makeup", {})),
            str(t.get("transfer_texts", MISSING)), _fixed(t.get("dev_score")), signed_points(t.get("dev_gain_lower")),
            _num(t.get("latency_ms_p50")),
            _num(t.get("latency_ms_p95")), _fixed(t.get("folder_mb"), 1), t.get("stopped", MISSING),
        ])
    return headers, rows


def signed_points(value: Optional[float]) -> str:
    """A score difference in points: "+1.2", "-0.4"; MISSING for none."""
    return MISSING if value is None else f"{100 * value:+.1f}"


def search_section(search: Dict[str, Any]) -> str:
    """The report's section on the search: counts, budget, the front and how to pick another point."""
    counts = search.get("counts", {})
    headers, rows = front_rows(search)
    contended = sum(bool((t.get("contention") or {}).get("contended")) for t in search.get("trials", []))
    lines = [
        "## Search: the accuracy–latency–size front",
        "",
        f"- Study `{search.get('study', MISSING)}` in `{search.get('storage', MISSING)}`: "
        f"{counts.get('complete', 0)} trials complete, {counts.get('pruned', 0)} pruned, "
        f"{counts.get('failed', 0)} failed; objectives: dev {search.get('metric', MISSING)} up, p50 latency "
        "down, folder size down (all measured on the dev set; the test set is not used)",
        f"- Latency budget: {_num(search.get('latency_budget_ms'))} ms "
        f"({search.get('latency_budget_rule', MISSING)}); chosen: trial {search.get('chosen_trial', MISSING)}, "
        f"written to `{search.get('config', MISSING)}`",
        f"- Choice rule: {(search.get('choice') or {}).get('rule', 'the best dev score within the budget')}. "
        "The lower bound is in points of the dev score, for trials within the budget; above 0, the trial "
        "beats the default by more than dev noise",
        f"- Pruned: dev score below {_fixed(search.get('prune_below'))} after the first epoch "
        f"(baseline's dev score {_fixed(search.get('baseline_dev_score'))} minus the margin)",
        "",
        f"![Search front: dev score against latency]({SEARCH_PLOT})",
        "",
        _table(headers, rows, left=6),
        "",
        "The chosen student's test figures are those of the `student` row above once the workflow has "
        "trained it: `spacy project run all . --vars.student_arch search`. Another point of the front, "
        "without new trials: `spacy project run search-choose . --vars.latency_budget_ms 0.5`.",
    ]
    if contended:
        lines += ["", f"> ⚠ The timing of {contended} trials shared the CPU with other processes: "
                  "their latencies overstate the cost."]
    return "\n".join(lines)
