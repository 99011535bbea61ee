"""Turn the trained student into a pipeline that needs spaCy alone, with a model card in meta.json."""
import json
import shutil
from pathlib import Path
from typing import Dict, Optional

import srsly

from .data import PathLike
from .student import convert_to_stock

# The packaged student loads with any spaCy 3.8.x, not only the patch release that trained it.
SPACY_VERSION_RANGE = ">=3.8.0,<3.9.0"


def _read_json(path: Path) -> Optional[Dict]:
    return json.loads(path.read_text(encoding="utf8")) if path.exists() else None


def model_card(
    report_path: PathLike,
    transfer_summary: Optional[PathLike],
    teacher_model: str,
    dataset: str,
    search: Optional[Dict] = None,
) -> Dict:
    """What the student is, where it came from and how it scores: the `distill_spacy` meta entry.

    report_path (PathLike): `metrics/evaluation.json` (or report.json) from `evaluate`.
    transfer_summary (Optional[PathLike]): `corpus/transfer.summary.json` from `augment`.
    teacher_model (str): The teacher's name (the `teacher_model` var).
    dataset (str): The training data the teacher and baseline saw.
    search (Optional[Dict]): The `[search]` section of a student chosen by the search (its trial, dev
        figures and transfer-set make-up), which then replaces the summary's make-up.
    RETURNS (Dict): The card.
    """
    card: Dict = {"teacher_model": teacher_model, "dataset": dataset, "models": {}}
    report = _read_json(Path(report_path)) or {"models": {}}
    for name in ("baseline", "teacher", "student"):
        model = report["models"].get(name)
        if model is None:
            continue
        quality, speed, size = model["quality"], model.get("speed") or {}, model["size"]
        card["models"][name] = {
            "test_accuracy": quality["accuracy"],
            "test_accuracy_ci95": quality["accuracy_ci95"],
            "test_macro_f1": quality["macro_f1"],
            "test_n": quality["n"],
            "latency_ms_p50": speed.get("latency_ms_p50"),
            "pipe_docs_per_s": speed.get("pipe_docs_per_s"),
            "size_bytes": size["folder_bytes"],
            "params": size["params"],
        }
    if report.get("machine"):
        card["measured_on"] = {"created": report.get("created"), **report["machine"]}
    if "student" in report.get("comparisons", {}):
        card["student_vs_teacher"] = {
            key: report["comparisons"]["student"][key] for key in ("speedup_p50", "size_reduction_folder", "gain_kept")
        }
    if transfer_summary is not None and Path(transfer_summary).exists():
        card["augmentation"] = _read_json(Path(transfer_summary))
    if search:
        card["search"] = {key: search[key] for key in ("study", "trial", "makeup", "dev_score", "latency_ms_p50",
                                                       "folder_mb") if key in search}
        card["transfer_set"] = ("chosen by the student search: `search.makeup` (samples per text, unlabelled "
                                "text, augmentation rates) replaces the make-up in `augmentation`")
    return card


def read_search_section(student_dir: PathLike) -> Optional[Dict]:
    """The `[search]` section of the trained student's config (a student chosen by the search), or None."""
    path = Path(student_dir) / "config.cfg"
    if not path.exists():
        return None
    from thinc.api import Config

    section = Config().from_disk(path, interpolate=False).get("search")
    return dict(section) if section else None


def prepare_package(
    student_dir: PathLike,
    output_dir: PathLike,
    name: str,
    version: str,
    card: Dict,
) -> Path:
    """Write the student as a stock-spaCy pipeline with meta.json ready for `spacy package`.

    student_dir (PathLike): The trained student (training/student/<arch>/model-best).
    output_dir (PathLike): Where to write the converted pipeline (replaced if it exists).
    name (str): Package name without the language prefix (`spacy package` adds `<lang>_`).
    version (str): Package version.
    card (Dict): The model card, from `model_card`.
    RETURNS (Path): output_dir.
    """
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_dir.with_name(output_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    convert_to_stock(student_dir, tmp)
    meta = srsly.read_json(tmp / "meta.json")
    student = card.get("models", {}).get("student", {})
    teacher = card.get("models", {}).get("teacher", {})
    meta.update(
        {
            "name": name,
            "version": version,
            "spacy_version": SPACY_VERSION_RANGE,
            "description": (
                f"A spaCy text classifier distilled from the teacher {card.get('teacher_model')} "
                f"with distill_spacy. Test accuracy {student.get('test_accuracy', float('nan')):.3f} "
                f"(teacher {teacher.get('test_accuracy', float('nan')):.3f})."
            ),
            "distill_spacy": card,
        }
    )
    srsly.write_json(tmp / "meta.json", meta)
    shutil.rmtree(output_dir, ignore_errors=True)
    tmp.rename(output_dir)
    return output_dir
