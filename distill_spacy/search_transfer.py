"""Transfer sets of the student search, one per make-up (unlabelled texts on/off, samples per
text, augmentation rates), built once and reused across trials and runs.

They are built as the `augment` step builds them (augmenters, dedupe, leakage guard), from sources
tagged once per run, and labelled with the teacher through the project's label cache, so that a
text is labelled once whatever make-up it appears in.
"""
import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict

from wasabi import msg

from .ablation import AblationSettings, _jsonable
from .augment import augment, build_augmenters, build_transfer_set, load_pos_model, tag_texts
from .calibration import Calibration
from .data import PathLike, read_texts, write_atomic
from .label import label_transfer_set
from .search_space import MakeUp


def digest(data: Any) -> str:
    """A short hash of JSON-able data: the key of a transfer set, the name of a study."""
    return hashlib.sha256(json.dumps(_jsonable(data), sort_keys=True).encode("utf8")).hexdigest()[:12]


class TransferSets:
    """Labelled transfer sets by make-up, in `<folder>/<key>/transfer.spacy`, built once.

    Sources are tagged once per run (not once per make-up); the teacher labels through the shared
    cache. A set is reused while its recipe (make-up, settings, input hashes) is unchanged.
    """

    def __init__(self, recipe: AblationSettings, teacher: PathLike, train: PathLike, dev: PathLike,
                 test: PathLike, cache: PathLike, folder: PathLike, inputs: Dict[str, str]):
        self.recipe, self.teacher, self.train, self.cache = recipe, teacher, train, cache
        self.heldout = [dev, test]
        self.folder = Path(folder)
        self.inputs = inputs
        self._tagged: Dict[str, list] = {}
        self._pos_nlp = None

    def recipe_of(self, makeup: MakeUp) -> Dict[str, Any]:
        r = self.recipe
        data: Dict[str, Any] = {"makeup": asdict(makeup), "seed": r.seed, "balance": r.balance, "lang": r.lang,
                                "inputs": {k: v for k, v in self.inputs.items() if k != "config"}}
        if makeup.n_iter:
            data.update(budget=r.budget, pos_model=r.pos_model, augmenters=self.specs(makeup))
        if r.calibration:
            data["temperature"] = Calibration.from_disk(r.calibration).temperature
        return _jsonable(data)

    def specs(self, makeup: MakeUp) -> Dict[str, Dict[str, Any]]:
        """The project's augmenters with the make-up's rates for the four built-in methods."""
        names = {"p_mask": "distill_spacy.mask.v1", "p_pos": "distill_spacy.pos.v1",
                 "p_ng": "distill_spacy.ngram.v1", "p_sent": "distill_spacy.sentence.v1"}
        specs = {name: dict(settings) for name, settings in self.recipe.augmenter_specs.items()}
        for rate, name in names.items():
            specs.setdefault(name, {})["p"] = getattr(makeup, rate)
        return specs

    def get(self, makeup: MakeUp) -> Path:
        """The labelled DocBin of a make-up, built and labelled if it is missing or stale."""
        recipe = self.recipe_of(makeup)
        folder = self.folder / digest(recipe)
        data, record = folder / "transfer.spacy", folder / "recipe.json"
        if data.exists() and record.exists() and json.loads(record.read_text(encoding="utf8")) == recipe:
            return data
        folder.mkdir(parents=True, exist_ok=True)
        texts = folder / "transfer.jsonl"
        r = self.recipe
        unlabelled = r.unlabelled if makeup.unlabelled else None
        msg.info(f"Building the transfer set {folder.name}: {makeup}")
        if makeup.n_iter == 0:
            augment(self.train, texts, heldout=self.heldout, unlabelled=unlabelled, augmenter_specs={},
                    n_iter=0, budget=r.budget, pos_model="", lang=r.lang, seed=r.seed, text_col=r.text_col)
        else:
            self._augment(makeup, texts)
        labelled = label_transfer_set(self.teacher, texts, self.train, data, self.cache, r.batch_size,
                                      r.balance, r.seed, r.calibration)
        msg.info(f"Transfer set {folder.name}: {labelled.texts} texts ({labelled.from_cache} from the label cache)")
        write_atomic(record, json.dumps(recipe, indent=2) + "\n")
        return data

    def _sources(self, kind: str) -> list:
        """Originals or unlabelled texts, tagged once per run by the POS model."""
        if kind not in self._tagged:
            r = self.recipe
            if self._pos_nlp is None:
                self._pos_nlp = load_pos_model(r.pos_model, r.lang)
            texts = read_texts(self.train if kind == "original" else r.unlabelled, r.text_col)
            self._tagged[kind] = tag_texts(self._pos_nlp, texts, kind, progress=r.progress)
        return self._tagged[kind]

    def _augment(self, makeup: MakeUp, output: Path) -> None:
        """What `augment` writes, from sources tagged once (augmenters, dedupe, leakage guard)."""
        r = self.recipe
        augs = build_augmenters(self.specs(makeup))
        sources = self._sources("original") + (self._sources("unlabelled") if makeup.unlabelled else [])
        for aug in augs:
            if aug.initialize is not None:
                aug.initialize(sources)
        held = [t for path in self.heldout for t in read_texts(path, r.text_col)]
        records, summary = build_transfer_set(sources, augs, n_iter=makeup.n_iter, budget=r.budget,
                                              seed=r.seed, heldout=held, progress=r.progress)
        write_atomic(output, "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records))
        msg.info(f"Augmented: {summary.kept} samples kept of {summary.drawn} drawn, {summary.total} texts")
