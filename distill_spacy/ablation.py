"""Ablations: what each part of the distillation recipe contributes.

Each variant trains the student (configs/student_<arch>.cfg) on other data and scores it on the gold
test set: gold labels only, the teacher's probabilities of the original texts only, the full transfer
set, the full transfer set with one augmentation method switched off, and the teacher's hard (argmax)
labels instead of its probabilities. Transfer sets are built with `augment.augment` and labelled with
`teacher.label_transfer_set`, sharing the project's label cache, so the texts of the main run are not
labelled again. Every variant writes under `<output_dir>/<name>/`; the scores go to one JSON file
(`metrics/ablation.json`) that the report reads.

This module runs the teacher: it imports spacy-transformers and torch through `teacher`.
"""
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import spacy
from spacy.cli.train import train as spacy_train
from thinc.api import Config
from wasabi import msg

from . import errors
from .augment import augment, default_augmenter_specs
from .calibration import Calibration
from .data import PathLike, fingerprint, read_transfer_summary, write_atomic
from .evaluate import TestSet, gain_kept, read_gold
from .label import harden_docbin, label_transfer_set
from .languages import fill_mask_token
from .shards import count_docs
from .student import length_overrides


@dataclass(frozen=True)
class Variant:
    """One way of building the student's training data.

    name (str): Short name, used for the output folder and in ablation.json.
    description (str): One line for the report.
    labels (str): "gold" (the gold training DocBin as it is) or "teacher" (a labelled transfer set).
    unlabelled (bool): Whether the user's unlabelled in-domain texts join the transfer set.
    augmented (bool): Whether augmented samples (n_iter per text) join the transfer set.
    switch_off (Optional[str]): A registered augmenter whose probability is set to 0.
    hard (bool): Train on the teacher's argmax as a one-hot label instead of its probabilities.
    epochs (str): Which epoch count applies: "gold" (few texts, many passes) or "student".
    """

    name: str
    description: str
    labels: str = "teacher"
    unlabelled: bool = True
    augmented: bool = True
    switch_off: Optional[str] = None
    hard: bool = False
    epochs: str = "student"


VARIANTS = (
    Variant("gold", "gold labels of the training texts only (the baseline's data)",
            labels="gold", unlabelled=False, augmented=False, epochs="gold"),
    Variant("originals", "teacher probabilities of the training texts only, no augmentation",
            unlabelled=False, augmented=False, epochs="gold"),
    Variant("unlabelled", "teacher probabilities of the training and unlabelled texts, no augmentation",
            augmented=False),
    Variant("full", "teacher probabilities on the full transfer set (unlabelled texts and augmentation)"),
    Variant("no_mask", "full transfer set without masking", switch_off="distill_spacy.mask.v1"),
    Variant("no_pos", "full transfer set without POS-guided replacement", switch_off="distill_spacy.pos.v1"),
    Variant("no_ngram", "full transfer set without n-gram sampling", switch_off="distill_spacy.ngram.v1"),
    Variant("no_sentence", "full transfer set without sentence sampling",
            switch_off="distill_spacy.sentence.v1"),
    Variant("hard", "teacher argmax (one-hot) on the full transfer set", hard=True),
)
VARIANTS_BY_NAME = {v.name: v for v in VARIANTS}

# Written last into a variant's folder: its presence means the variant finished.
RECORD_NAME = "variant.json"

@dataclass
class AblationSettings:
    """How the transfer sets are built and labelled and the students trained: the main run's settings.

    augmenter_specs (Dict[str, Dict[str, Any]]): Settings by registered augmenter name, as `augment`
        takes them (`default_augmenter_specs` plus any extra augmenters).
    n_iter (int): Samples drawn per source text.
    budget (int): Most texts in a transfer set, sources included; 0 for no cap.
    pos_model (str): Pipeline for POS tags and sentences; "" for none.
    unlabelled (Optional[PathLike]): Unlabelled in-domain texts, added to the transfer sets of all
        variants but `gold` and `originals`; without them the `unlabelled` variant is skipped.
    text_col (str): Column/field of CSV/JSONL inputs that holds the text.
    seed (int): Seed of augmentation and of balancing.
    lang (str): Language code of the texts and of the student (`nlp.lang`).
    batch_size (int): Texts per forward pass of the teacher.
    balance (bool): Drop augmented texts of over-represented teacher labels, as `label --balance`.
    student_epochs (int): Epochs over a transfer set with unlabelled or augmented texts.
    gold_epochs (int): Epochs over the training texts alone (the baseline's epoch count).
    gpu_id (int): GPU for the teacher and training, or -1 for CPU.
    overrides (Dict[str, Any]): More dotted config overrides for every student, e.g.
        {"components.textcat.loss.kind": "kl"}. Paths, epochs and lang are set by the ablation.
    progress (bool): Show progress bars.
    calibration (Optional[PathLike]): The teacher's calibration.json, applied when labelling as in
        the main run; None labels at T = 1.
    """

    augmenter_specs: Dict[str, Dict[str, Any]] = field(default_factory=default_augmenter_specs)
    n_iter: int = 20
    budget: int = 0
    pos_model: str = "en_core_web_sm"
    unlabelled: Optional[PathLike] = None
    text_col: str = "text"
    seed: int = 0
    lang: str = "en"
    batch_size: int = 64
    balance: bool = False
    student_epochs: int = 2
    gold_epochs: int = 30
    gpu_id: int = -1
    overrides: Dict[str, Any] = field(default_factory=dict)
    progress: bool = False
    calibration: Optional[PathLike] = None

    @classmethod
    def from_transfer_summary(
        cls, path: PathLike, teacher: Optional[PathLike] = None, **settings
    ) -> "AblationSettings":
        """The settings the `augment` step used, read from its summary (corpus/transfer.summary.json),
        so that the ablation varies the main run's recipe; `settings` (e.g. n_iter, epochs) win.

        teacher (Optional[PathLike]): The trained teacher: where the summary's mask token is empty (the
            project's default), masking uses the teacher tokenizer's own token (`fill_mask_token`).
        """
        used = read_transfer_summary(path)
        inputs = used.get("inputs", {})
        recipe = {
            "augmenter_specs": used["augmenters"], "n_iter": used["n_iter"], "budget": used["budget"],
            "pos_model": used["pos_model"], "unlabelled": inputs.get("unlabelled") or None,
            "text_col": inputs.get("text_col", "text"), "seed": used["seed"], "lang": used["lang"],
        }
        if teacher is not None:
            recipe["augmenter_specs"] = fill_mask_token(recipe["augmenter_specs"], str(teacher))
        return cls(**{**recipe, **settings})

    def epochs(self, variant: Variant) -> int:
        return self.gold_epochs if variant.epochs == "gold" else self.student_epochs


def parse_variants(text: str) -> List[Variant]:
    """Read a comma- or space-separated list of variant names; empty means all.

    RETURNS (List[Variant]): The variants, in the order of VARIANTS. Raises ValueError for an
        unknown name.
    """
    names = text.replace(",", " ").split()
    for name in names:
        if name not in VARIANTS_BY_NAME:
            names_known = ", ".join(VARIANTS_BY_NAME)
            raise errors.ConfigError(errors.E_UNKNOWN_VARIANT.format(name=name, text=text, names=names_known))
    return [v for v in VARIANTS if not names or v.name in names]


def variant_specs(variant: Variant, specs: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """The augmenter settings of a variant: the main run's, with its method switched off (p = 0).

    RETURNS (Dict[str, Dict[str, Any]]): A copy; {} for variants without augmentation.
    """
    if not variant.augmented:
        return {}
    specs = {name: dict(settings) for name, settings in specs.items()}
    if variant.switch_off in specs:
        specs[variant.switch_off]["p"] = 0.0
    return specs


def build_transfer_set(
    variant: Variant,
    settings: AblationSettings,
    train: PathLike,
    heldout: Sequence[PathLike],
    output: PathLike,
):
    """Write a variant's transfer texts (JSONL), as the `augment` step would with its settings.

    Variants without augmentation draw no samples; only some variants take the unlabelled texts.
    RETURNS (AugmentSummary): What `augment` drew, kept and dropped.
    """
    return augment(
        train, output, heldout=heldout,
        unlabelled=settings.unlabelled if variant.unlabelled else None,
        augmenter_specs=variant_specs(variant, settings.augmenter_specs),
        n_iter=settings.n_iter if variant.augmented else 0,
        budget=settings.budget, pos_model=settings.pos_model, lang=settings.lang, seed=settings.seed,
        text_col=settings.text_col, progress=settings.progress,
    )


def train_student(
    config: PathLike,
    train: PathLike,
    dev: PathLike,
    output_dir: PathLike,
    epochs: int,
    lang: str = "en",
    gpu_id: int = -1,
    overrides: Optional[Dict[str, Any]] = None,
) -> Path:
    """Train the student with spaCy's training API, as `spacy train` would.

    RETURNS (Path): The `model-best` folder.
    """
    settings = dict(overrides or {})
    settings.update({
        "paths.train": str(train), "paths.dev": str(dev),
        "training.max_epochs": epochs, "nlp.lang": lang,
    })
    # The hash table sized for the labels, as `train-student` sizes it (unless overridden).
    n_labels = len(read_gold(dev)[2])
    for key, length in length_overrides(Config().from_disk(config, interpolate=False), n_labels).items():
        settings.setdefault(key, length)
    spacy_train(config, output_dir, use_gpu=gpu_id, overrides=settings)
    return Path(output_dir) / "model-best"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def input_fingerprints(
    teacher: PathLike, train: PathLike, dev: PathLike, test: PathLike, config: PathLike,
    unlabelled: Optional[PathLike] = None,
) -> Dict[str, str]:
    """Hashes of the inputs a variant is built from: a retrained teacher or new data gives new ones."""
    return {
        "teacher": fingerprint(teacher), "train": fingerprint(train), "dev": fingerprint(dev),
        "test": fingerprint(test), "config": fingerprint(config),
        "unlabelled": fingerprint(unlabelled) if unlabelled else "",
    }


def variant_recipe(variant: Variant, settings: AblationSettings, inputs: Dict[str, str]) -> Dict[str, Any]:
    """What a variant's outputs depend on: its settings and the hashes of its inputs.

    Stored beside the outputs; a variant whose recipe changed is built again.
    inputs (Dict[str, str]): From `input_fingerprints`.
    """
    used = ["train", "dev", "config"]
    data: Dict[str, Any] = {"epochs": settings.epochs(variant), "lang": settings.lang,
                            "overrides": settings.overrides}
    if variant.labels == "teacher":
        used += ["teacher", "test"]  # the test set feeds the leakage guard
        data.update({"augmenters": variant_specs(variant, settings.augmenter_specs), "seed": settings.seed,
                     "balance": settings.balance, "hard": variant.hard})
        if settings.calibration:  # only then, so that recipes stored before calibration stay valid
            data["temperature"] = Calibration.from_disk(settings.calibration).temperature
        if variant.unlabelled:
            used.append("unlabelled")
        if variant.augmented:
            data.update({"n_iter": settings.n_iter, "budget": settings.budget, "pos_model": settings.pos_model})
    data["inputs"] = {key: inputs[key] for key in used}
    return _jsonable(data)


def changed_keys(old: Dict[str, Any], new: Dict[str, Any]) -> List[str]:
    """Top-level keys whose values differ, with the names of changed inputs."""
    keys = []
    for key in sorted(set(old) | set(new)):
        if key == "inputs" and isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            keys += changed_keys(old[key], new[key])
        elif old.get(key) != new.get(key):
            keys.append(key)
    return keys


def run_variant(
    variant: Variant,
    settings: AblationSettings,
    teacher: PathLike,
    train: PathLike,
    dev: PathLike,
    test: PathLike,
    config: PathLike,
    folder: PathLike,
    cache: PathLike,
    recipe: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Build, label and train one variant in its own folder (cleared first).

    recipe (Optional[Dict[str, Any]]): What the outputs depend on (`variant_recipe`), stored with them.
    RETURNS (Dict[str, Any]): The record written to `<folder>/variant.json`: transfer size, epochs,
        recipe and the path of `model-best`.
    """
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if variant.labels == "gold":
        data = Path(train)
        msg.info(f"Training on the gold labels of {data}")
    else:
        transfer = folder / "transfer.jsonl"
        summary = build_transfer_set(variant, settings, train, [dev, test], transfer)
        msg.info(f"Transfer set: {summary.total} texts ({summary.kept} augmented) in {transfer}")
        data = folder / "transfer.spacy"
        labelled = label_transfer_set(teacher, transfer, train, data, cache, settings.batch_size,
                                      settings.balance, settings.seed, settings.calibration)
        msg.info(f"Labelled {labelled.texts} texts ({labelled.from_cache} from the cache {cache})")
        if variant.hard:
            harden_docbin(data)
            msg.info(f"Replaced the teacher's probabilities by one-hot argmax labels in {data}")
    epochs = settings.epochs(variant)
    model = train_student(config, data, dev, folder / "model", epochs, settings.lang, settings.gpu_id,
                          settings.overrides)
    record = {
        "name": variant.name, "transfer_size": count_docs(data), "epochs": epochs,
        "model": str(model), "recipe": recipe or {},
    }
    write_atomic(folder / RECORD_NAME, (json.dumps(record, indent=2) + "\n").encode("utf8"))
    return record


def read_record(folder: PathLike) -> Optional[Dict[str, Any]]:
    """A finished variant's record, or None when its outputs are missing."""
    folder = Path(folder)
    path = folder / RECORD_NAME
    if not path.exists() or not (folder / "model" / "model-best").is_dir():
        return None
    return json.loads(path.read_text(encoding="utf8"))


def variant_entry(variant: Variant, record: Dict[str, Any], scores: Dict, teacher_accuracy: float,
                  baseline_accuracy: float) -> Dict[str, Any]:
    """One item of ablation.json's "variants" list."""
    return {
        "name": variant.name,
        "description": variant.description,
        "transfer_size": record["transfer_size"],
        "epochs": record["epochs"],
        "accuracy": scores["accuracy"],
        "accuracy_ci95": list(scores["accuracy_ci95"]),
        "macro_f1": scores["macro_f1"],
        "agreement_with_teacher": scores["agreement_with_teacher"],
        "gain_kept": gain_kept(scores["accuracy"], teacher_accuracy, baseline_accuracy),
    }


def merge_entries(old: Sequence[Dict[str, Any]], new: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Entries of this run replace those of the same name; the result follows the order of VARIANTS."""
    by_name = {e["name"]: e for e in old if e.get("name") in VARIANTS_BY_NAME}
    by_name.update({e["name"]: e for e in new})
    return [by_name[v.name] for v in VARIANTS if v.name in by_name]


def read_ablation(path: PathLike) -> Dict[str, Any]:
    """An existing ablation.json, or {} when there is none or it cannot be read."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except json.JSONDecodeError:
        msg.warn(errors.W_ABLATION_JSON.format(path=path))
        return {}
    return data if isinstance(data, dict) else {}


def run_ablation(
    teacher: PathLike,
    baseline: PathLike,
    train: PathLike,
    dev: PathLike,
    test: PathLike,
    config: PathLike,
    output_dir: PathLike = "training/ablation",
    metrics: PathLike = "metrics/ablation.json",
    cache: PathLike = "corpus/label_cache.sqlite",
    settings: Optional[AblationSettings] = None,
    variants: Optional[Sequence[Variant]] = None,
    force: bool = False,
) -> Dict[str, Any]:
    """Run ablation variants and write their test scores to `metrics` (JSON, atomically).

    A variant whose outputs exist (`<output_dir>/<name>/variant.json` and its model-best) and were
    built from the same settings and inputs (`variant_recipe`) is not built again unless `force`;
    it is scored again. The teacher and the baseline are scored once; the baseline's accuracy makes
    `gain_kept` match the main report. Entries of variants not run now are kept from an existing
    file. The file is rewritten after each variant, so an interrupted run keeps what finished.

    teacher (PathLike): The trained teacher (training/teacher/model-best).
    baseline (PathLike): The baseline trained on the gold labels (training/baseline/model-best).
    train (PathLike): Gold training DocBin. dev (PathLike): Gold dev DocBin (model selection and
        leakage guard). test (PathLike): Gold test DocBin (scores and leakage guard).
    config (PathLike): The student config (configs/student_<arch>.cfg).
    output_dir (PathLike): One folder per variant is made in it.
    metrics (PathLike): The JSON file to write.
    cache (PathLike): The label cache, shared with the `label` step.
    settings (Optional[AblationSettings]): The main run's settings; the defaults if None.
    variants (Optional[Sequence[Variant]]): The variants to run; all of VARIANTS if None.
    force (bool): Rebuild variants whose outputs exist.
    RETURNS (Dict[str, Any]): The data written to `metrics`.
    """
    settings = settings or AblationSettings()
    variants = list(VARIANTS if variants is None else variants)
    if settings.gpu_id >= 0:
        spacy.require_gpu(settings.gpu_id)
    inputs = input_fingerprints(teacher, train, dev, test, config, settings.unlabelled)
    test_set = TestSet.read(test)
    msg.info(f"Scoring the teacher and the baseline on {len(test_set.texts)} test texts from {test}")
    teacher_accuracy = test_set.score_teacher(teacher, settings.batch_size)["accuracy"]
    baseline_accuracy = test_set.score(baseline)["accuracy"]
    msg.info(f"Teacher accuracy {teacher_accuracy:.3f}, baseline accuracy {baseline_accuracy:.3f}")
    result = {
        "n": len(test_set.texts), "test": str(test),
        "baseline_accuracy": baseline_accuracy, "teacher_accuracy": teacher_accuracy,
        "variants": list(read_ablation(metrics).get("variants", [])),
    }
    if settings.unlabelled is None and any(v.name == "unlabelled" for v in variants):
        msg.info("Skipping the variant 'unlabelled': no unlabelled texts were given (--unlabelled)")
        variants = [v for v in variants if v.name != "unlabelled"]
    for i, variant in enumerate(variants, start=1):
        msg.divider(f"Ablation {i}/{len(variants)}: {variant.name}")
        msg.text(variant.description)
        folder = Path(output_dir) / variant.name
        recipe = variant_recipe(variant, settings, inputs)
        record = None if force else read_record(folder)
        changed = changed_keys(record.get("recipe", {}), recipe) if record else []
        if record is not None and not changed:
            msg.info(f"Skipping {variant.name}: its outputs exist in {folder} (pass --force to rebuild)")
        else:
            if changed:
                msg.info(f"Rebuilding {variant.name}: {', '.join(changed)} changed since {folder} was built")
            record = run_variant(variant, settings, teacher, train, dev, test, config, folder, cache, recipe)
        scores = test_set.score(folder / "model" / "model-best")
        entry = variant_entry(variant, record, scores, teacher_accuracy, baseline_accuracy)
        result["variants"] = merge_entries(result["variants"], [entry])
        write_atomic(metrics, (json.dumps(result, indent=2) + "\n").encode("utf8"))
        msg.good(f"{variant.name}: accuracy {entry['accuracy']:.3f} on {result['n']} test texts")
    return result

