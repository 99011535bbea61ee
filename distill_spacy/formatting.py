"""Formatting shared by the report, the terminal tables and the README blocks: numbers as text (None
as "–"), Markdown tables, and replacing a marked block of a README."""
import re
from pathlib import Path
from typing import Dict, Optional, Sequence

from .data import PathLike, write_atomic
from . import errors
from .errors import data_error

MISSING = "–"


# Formatting: every helper renders None as MISSING, so absent or null fields never raise.


def _get(data: Optional[Dict], *keys: str):
    """data[key1][key2]..., or None where a level is missing or null."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _fixed(value: Optional[float], digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _num(value: Optional[float]) -> str:
    """Three significant digits, whole numbers with thousands separators: 0.07, 14.7, 14,000."""
    if value is None:
        return MISSING
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _times(value: Optional[float]) -> str:
    """A ratio: 210x, 1.5x."""
    if value is None:
        return MISSING
    return f"{value:.0f}x" if abs(value) >= 10 else f"{value:.1f}x"


def _percent(value: Optional[float]) -> str:
    # round() returns an int, so -0.001 renders as 0%, not -0%.
    return MISSING if value is None else f"{round(value * 100)}%"


def _mb(n_bytes: Optional[float]) -> str:
    return MISSING if n_bytes is None else f"{n_bytes / 1e6:.1f}"


def _count(n: Optional[float]) -> str:
    """A parameter count: 22.7M, 131k, 950."""
    if n is None:
        return MISSING
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        # 999,999 rounds to 1.00M, not 1e+03k.
        if abs(n) >= div * 0.9995:
            return f"{n / div:.3g}{suffix}"
    return str(int(n))


def _int(value: Optional[int]) -> str:
    """A count with thousands separators: 11,583."""
    return MISSING if value is None else f"{value:,}"


def _with_ci(value: Optional[float], ci: Optional[Sequence[float]]) -> str:
    """0.738 [0.710, 0.764]."""
    if value is None:
        return MISSING
    if not ci:
        return _fixed(value)
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def _points(diff: Optional[Dict]) -> str:
    """An accuracy difference in percentage points with its CI: -10.3 [-13.0, -8.0]."""
    value = _get(diff, "diff")
    if value is None:
        return MISSING
    ci = _get(diff, "ci95")
    text = f"{value * 100:+.1f}"
    return text if not ci else f"{text} [{ci[0] * 100:+.1f}, {ci[1] * 100:+.1f}]"


def _cell(value: object) -> str:
    # A "|" inside a label would split the table cell.
    return str(value).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    """A Markdown table; the first `left` columns align left, the others (numbers) right."""
    align = ["---"] * left + ["---:"] * (len(headers) - left)
    lines = [headers, align] + [[_cell(v) for v in row] for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def confusion_filename(name: str) -> str:
    """The file name of a model's confusion matrix plot: confusion_<name>.png, name made file-safe."""
    return "confusion_" + re.sub(r"[^\w.-]", "_", name) + ".png"


def update_readme(readme_path: PathLike, table: str, block: str = "results") -> bool:
    """Replace the text between the markers of a README block with `table`.

    readme_path (PathLike): The README, holding the lines `<!-- results:start -->` and
        `<!-- results:end -->` (for block "results"), in that order.
    table (str): The new text between them, e.g. from `results_table`.
    block (str): The block's name in its markers: "results" or "benchmark".
    RETURNS (bool): Whether the file changed. It is written atomically, and only when it changed.
        Raises DataError (a ValueError) naming the file and the missing marker.
    """
    start_marker, end_marker = f"<!-- {block}:start -->", f"<!-- {block}:end -->"
    path = Path(readme_path)
    text = path.read_bytes().decode("utf8")
    markers = {"start": start_marker, "end": end_marker, "block": block}
    start = text.find(start_marker)
    if start < 0:
        raise data_error(path, None, errors.E_NO_MARKER, marker=start_marker, after="", **markers)
    end = text.find(end_marker, start)
    if end < 0:
        after = f" after `{start_marker}`"
        raise data_error(path, None, errors.E_NO_MARKER, marker=end_marker, after=after, **markers)
    new = text[: start + len(start_marker)] + "\n" + table.strip("\n") + "\n" + text[end:]
    if new == text:
        return False
    write_atomic(path, new.encode("utf8"))
    return True
