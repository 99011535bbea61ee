"""The report's plots as PNG files: accuracy against latency, and confusion heat maps.

matplotlib is imported inside the functions, with its object-oriented `Figure` (no pyplot state),
so that importing the report does not import matplotlib.
"""
import io
from pathlib import Path
from typing import Dict, List

from .data import write_atomic
from .formatting import MISSING, PathLike, _get

ROLE_STYLES = {"baseline": ("s", "tab:gray"), "teacher": ("D", "tab:red"), "student": ("o", "tab:blue")}
MAX_ANNOTATED_LABELS = 20


def _save_png(fig, path: PathLike) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    write_atomic(path, buffer.getvalue())
    return Path(path)


def plot_accuracy_latency(report: Dict, path: PathLike) -> Path:
    """Plot accuracy (with its 95% CI) against p50 latency, one labelled point per model.

    report (Dict): The evaluation report. Models without speed are left out.
    path (PathLike): The PNG to write (atomically).
    RETURNS (Path): The path written.
    """
    # Imported here: rendering Markdown and the README table needs no matplotlib.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    plotted = 0
    for name, model in report.get("models", {}).items():
        latency = _get(model, "speed", "latency_ms_p50")
        accuracy = _get(model, "quality", "accuracy")
        if latency is None or accuracy is None:
            continue
        ci = _get(model, "quality", "accuracy_ci95")
        yerr = [[accuracy - ci[0]], [ci[1] - accuracy]] if ci else None
        marker, color = ROLE_STYLES.get(model.get("role"), ("o", "tab:green"))
        ax.errorbar([latency], [accuracy], yerr=yerr, fmt=marker, color=color, capsize=4)
        ax.annotate(name, (latency, accuracy), xytext=(6, 6), textcoords="offset points")
        plotted += 1
    if plotted:
        ax.set_xscale("log")
    else:
        ax.text(0.5, 0.5, "no speed measurements", ha="center", va="center", transform=ax.transAxes)
    ax.margins(x=0.15, y=0.1)  # room for the point labels
    ax.set_xlabel("p50 latency per message (ms, log scale)")
    ax.set_ylabel("accuracy (95% CI)")
    ax.set_title(f"Accuracy against latency (n = {report.get('n', MISSING)})")
    ax.grid(True, which="both", alpha=0.3)
    return _save_png(fig, path)


def plot_confusion(labels: List[str], matrix: List[List[int]], title: str, path: PathLike) -> Path:
    """Plot a confusion matrix as a heat map: rows gold, columns predicted.

    labels (List[str]): The labels, in the order of the matrix rows and columns.
    matrix (List[List[int]]): Counts, matrix[gold][predicted].
    title (str): The plot title.
    path (PathLike): The PNG to write (atomically).
    RETURNS (Path): The path written. Counts are written in the cells for up to 20 labels.
    """
    from matplotlib.figure import Figure

    n = len(labels)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        shape = f"{len(matrix)} rows of lengths {sorted({len(row) for row in matrix})}"
        raise ValueError(f"plot_confusion: {n} labels need a {n} x {n} matrix, got {shape}")
    side = max(4.0, 0.3 * n + 2.5)
    fig = Figure(figsize=(side + 1, side), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    font = 9 if n <= MAX_ANNOTATED_LABELS else 7
    ax.set_xticks(range(n), labels, rotation=45 if n <= MAX_ANNOTATED_LABELS else 90, ha="right",
                  rotation_mode="anchor", fontsize=font)
    ax.set_yticks(range(n), labels, fontsize=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    if n <= MAX_ANNOTATED_LABELS:
        top = max((max(row) for row in matrix), default=0)
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                color = "white" if count > top / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=font)
    return _save_png(fig, path)


def plot_search_front(search: Dict, path: PathLike) -> Path:
    """Plot the search's trials: dev score against p50 latency, the front joined and coloured by
    folder size, the default student and the chosen one marked, the latency budget as a line.

    search (Dict): metrics/search.json. Trials without values (pruned, failed) are left out.
    path (PathLike): The PNG to write (atomically).
    RETURNS (Path): The path written.
    """
    from matplotlib.figure import Figure

    done = [t for t in search.get("trials", []) if t.get("state") == "COMPLETE"]
    front = sorted((t for t in done if t.get("on_front")), key=lambda t: t["latency_ms_p50"])
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    others = [t for t in done if not t.get("on_front")]
    ax.scatter([t["latency_ms_p50"] for t in others], [t["dev_score"] for t in others], s=18,
               color="lightgray", label="dominated trials")
    if front:
        ax.plot([t["latency_ms_p50"] for t in front], [t["dev_score"] for t in front], color="gray",
                linewidth=0.8, drawstyle="steps-post")
        points = ax.scatter([t["latency_ms_p50"] for t in front], [t["dev_score"] for t in front],
                            c=[t["folder_mb"] for t in front], cmap="viridis", s=50, zorder=3, label="front")
        fig.colorbar(points, ax=ax, label="folder MB")
    for key, marker, label in (("default", "s", "default (trial 0)"), ("chosen", "*", "chosen")):
        marked = [t for t in done if t.get(key)]
        if marked:
            ax.scatter([t["latency_ms_p50"] for t in marked], [t["dev_score"] for t in marked], marker=marker,
                       s=220 if marker == "*" else 110, facecolors="none", edgecolors="tab:red", linewidths=1.5,
                       zorder=4, label=label)
    for t in front:
        ax.annotate(str(t["number"]), (t["latency_ms_p50"], t["dev_score"]), xytext=(5, 4),
                    textcoords="offset points", fontsize=8)
    budget = search.get("latency_budget_ms")
    if budget:
        ax.axvline(budget, color="tab:red", linestyle="--", linewidth=0.8, label=f"budget {budget:.3g} ms")
    if done:
        from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        # 0.1, 0.2, 0.5, 1, 2 ... as plain numbers: a front often spans less than a decade.
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no complete trials", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("p50 latency per message (ms, log scale; dev texts)")
    ax.set_ylabel(f"dev {search.get('metric', 'score')}")
    ax.set_title(f"Search: {len(done)} trials, {len(front)} on the front")
    ax.grid(True, which="both", alpha=0.3)
    return _save_png(fig, path)
