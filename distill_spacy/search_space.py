"""What the student search varies, as spaCy config overrides, and how a trial is stopped early.

A trial's settings (`suggest`) become a stock student config (configs/student_<arch>.cfg) plus dotted
overrides and a transfer-set make-up (`trial_plan`): nothing is hand-coded per trial. The default
student (the project's vars) is one point of the space (`default_params`), enqueued as trial 0.

`distill_spacy.TrialLogger.v1` is the training logger of a trial: it stops training when the trial
has used its time (the best checkpoint so far is kept) or when its dev score after the first
epoch(s) is far below the baseline's (the trial is pruned). The chosen student's config pins the
settings the search chose (`[search] pinned`): `scripts/train_student.py` does not let the
project's command-line overrides replace them (`drop_pinned`).

This module imports neither Optuna nor the teacher; `distill_spacy.search` runs the study.
"""
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from spacy import util
from spacy.training.loggers import console_logger_v3
from thinc.api import Config

from . import errors
from .errors import UserError
from .losses import LOSS_KINDS
from .student import MAX_BOW_LENGTH, bow_length

ARCHS = ("bow", "cnn", "ensemble")
# The stock configs the architectures start from; "cnn_vectors" is "cnn" with static vectors.
ARCH_CONFIGS = {"bow": "student_bow.cfg", "cnn": "student_cnn.cfg", "ensemble": "student_ensemble.cfg"}
# Where the bag-of-words model and the CNN's tok2vec sit in each architecture's config.
BOW_SECTION = {"bow": "components.textcat.model", "ensemble": "components.textcat.model.linear_model"}
TOK2VEC_SECTION = "components.textcat.model.tok2vec"
LOSS_SECTION = "components.textcat.loss"
# Choices; each is widened to hold the default's value, so that trial 0 lies inside the space.
WIDTHS = (32, 64, 128)
MAX_DEPTH = 4
MAX_NGRAM = 3
MIN_LENGTH_LOG2 = 12
LEARN_RATES = (1e-4, 1e-2)
TEMPERATURES = (1.0, 2.0, 4.0)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Augmentation methods: each is on (at the project's rate) or off, as in the ablations.
RATES = ("p_mask", "p_pos", "p_ng", "p_sent")
# augmenters.default_augmenter_specs's rates, not imported: train-student reads this module, and must
# not depend on the augmenters.
DEFAULT_RATES = {"p_mask": 0.1, "p_pos": 0.1, "p_ng": 0.25, "p_sent": 0.25}

# The section of a chosen student's config that names the settings the search fixed.
PINNED_SECTION = "search"
LOGGER = "distill_spacy.TrialLogger.v1"


def search_error(message: errors.Message, **values) -> UserError:
    """A UserError from a catalogue message."""
    return UserError(message.format(**values))


@dataclass(frozen=True)
class MakeUp:
    """What a transfer set is made of: unlabelled texts on/off, samples per text and the rates."""

    n_iter: int
    unlabelled: bool
    p_mask: float = 0.0
    p_pos: float = 0.0
    p_ng: float = 0.0
    p_sent: float = 0.0

    def rates(self) -> Dict[str, float]:
        return {name: getattr(self, name) for name in RATES}


@dataclass
class SearchSpace:
    """The search space and its default point (trial 0).

    n_labels (int): Labels of the task (the hash-table sizes depend on it).
    max_epochs (int): Most passes over a transfer set (the project's `student_epochs`).
    default (Dict[str, Any]): The default student's settings, from `default_params`.
    n_iter_choices (Tuple[int, ...]): Samples per text to try; the default's is added.
    vectors (Optional[str]): Static vectors folder; None leaves vectors out of the space.
    has_unlabelled (bool): Whether unlabelled texts exist (then on/off is searched).
    configs_dir (Path): Where configs/student_<arch>.cfg live.
    """

    n_labels: int
    max_epochs: int
    default: Dict[str, Any]
    n_iter_choices: Tuple[int, ...] = (0, 1)
    vectors: Optional[str] = None
    has_unlabelled: bool = False
    configs_dir: Path = Path("configs")

    def length_range(self) -> Tuple[int, int]:
        """log2 of the smallest and largest bag-of-words hash table: up to twice the size rule's."""
        rule = int(math.log2(bow_length(self.n_labels)))
        return min(MIN_LENGTH_LOG2, rule), min(int(math.log2(MAX_BOW_LENGTH)), rule + 1)

    def describe(self) -> Dict[str, Any]:
        """The space as data: stored with the study, so that a changed space starts a new study."""
        return {
            "archs": list(ARCHS), "n_labels": self.n_labels, "max_epochs": self.max_epochs,
            "n_iter": list(_with(self.n_iter_choices, self.default["n_iter"])),
            "vectors": self.vectors, "unlabelled": self.has_unlabelled,
            "length_log2": list(self.length_range()), "default": self.default,
        }


def _with(choices, value) -> Tuple:
    """The choices with the default's value among them, sorted."""
    return tuple(sorted(set(choices) | {value}))


def read_arch_defaults(configs_dir: Path, arch: str) -> Dict[str, Any]:
    """The model settings of configs/student_<arch>.cfg that the space varies."""
    base = "cnn" if arch == "cnn_vectors" else arch
    config = Config().from_disk(Path(configs_dir) / f"student_{arch}.cfg", interpolate=False)
    model = config["components"]["textcat"]["model"]
    found: Dict[str, Any] = {"arch": base, "learn_rate": config["training"]["optimizer"]["learn_rate"]}
    bow = model.get("linear_model", model)
    if base in BOW_SECTION:
        found["ngram_size"] = bow["ngram_size"]
    if base != "bow":
        found["width"] = model["tok2vec"]["encode"]["width"]
        found["depth"] = model["tok2vec"]["encode"]["depth"]
        found["static_vectors"] = bool(model["tok2vec"]["embed"]["include_static_vectors"])
    return found


# The registered augmenter behind each rate of the default recipe.
RATE_AUGMENTERS = {"p_mask": "distill_spacy.mask.v1", "p_pos": "distill_spacy.pos.v1",
                   "p_ng": "distill_spacy.ngram.v1", "p_sent": "distill_spacy.sentence.v1"}


def recipe_rates(augmenter_specs: Dict[str, Dict[str, Any]]) -> Dict[str, float]:
    """The rates of the default augmenters in the main run's settings (0 for one it did not use)."""
    return {name: float(augmenter_specs.get(aug, {}).get("p", 0.0)) for name, aug in RATE_AUGMENTERS.items()}


def trained_student_settings(config_path: Path) -> Dict[str, Any]:
    """The loss, temperature, alpha, vectors and epochs of the trained default student, read from its
    config (training/student/<arch>/model-best/config.cfg), so that trial 0 is the student `all` trained."""
    config = Config().from_disk(config_path, interpolate=True)
    loss = config["components"]["textcat"].get("loss", {})
    vectors = config["paths"].get("vectors")
    return {
        "loss": loss.get("kind", "kl"), "temperature": float(loss.get("temperature", 1.0)),
        "alpha": float(loss.get("alpha", 0.0)), "vectors": str(vectors) if vectors else None,
        "epochs": int(config["training"]["max_epochs"]),
    }


def default_params(
    arch: str,
    n_labels: int,
    epochs: int,
    loss: str,
    temperature: float,
    alpha: float,
    n_iter: int,
    rates: Dict[str, float],
    has_unlabelled: bool,
    vectors: Optional[str] = None,
    configs_dir: Path = Path("configs"),
) -> Dict[str, Any]:
    """The default student's settings: the project's vars and configs/student_<arch>.cfg.

    arch (str): The project's `student_arch`: bow, cnn, cnn_vectors or ensemble.
    rates (Dict[str, float]): The project's p_mask, p_pos, p_ng, p_sent.
    RETURNS (Dict[str, Any]): The params of trial 0, as `suggest` names them.
    """
    if arch not in (*ARCHS, "cnn_vectors"):
        raise search_error(errors.E_SEARCH_ARCH, arch=arch, archs=", ".join((*ARCHS, "cnn_vectors")))
    params = read_arch_defaults(configs_dir, arch)
    if "static_vectors" in params:
        params["static_vectors"] = params["static_vectors"] and vectors is not None
    if params["arch"] in BOW_SECTION:
        params["length_log2"] = int(math.log2(bow_length(n_labels)))
    params.update({"epochs": epochs, "loss": loss, "alpha": alpha, "n_iter": n_iter})
    if loss == "kl":
        params["temperature"] = temperature
    if has_unlabelled:
        params["unlabelled"] = True
    params.update({name: (rates[name] if n_iter > 0 else 0.0) for name in RATES})
    return params


def rate_choices(space: SearchSpace, name: str) -> Tuple[float, ...]:
    """Off, or on at the project's rate (the built-in rate when the project's is 0)."""
    on = space.default.get(name) or DEFAULT_RATES[name]
    return (0.0, float(on))


def suggest(trial, space: SearchSpace) -> Dict[str, Any]:
    """Draw one trial's settings (an Optuna trial; conditional settings only where they apply).

    RETURNS (Dict[str, Any]): The params, e.g. {"arch": "bow", "ngram_size": 2, ...}.
    """
    d = space.default
    p: Dict[str, Any] = {"arch": trial.suggest_categorical("arch", ARCHS)}
    if p["arch"] != "bow" and space.vectors:
        p["static_vectors"] = trial.suggest_categorical("static_vectors", (False, True))
    if p["arch"] in BOW_SECTION:
        p["ngram_size"] = trial.suggest_int("ngram_size", 1, max(MAX_NGRAM, d.get("ngram_size", 1)))
        p["length_log2"] = trial.suggest_int("length_log2", *space.length_range())
    if p["arch"] != "bow":
        p["width"] = trial.suggest_categorical("width", _with(WIDTHS, d.get("width", WIDTHS[1])))
        p["depth"] = trial.suggest_int("depth", 1, max(MAX_DEPTH, d.get("depth", 1)))
    p["epochs"] = trial.suggest_int("epochs", 1, max(space.max_epochs, d["epochs"]), log=True)
    low, high = min(LEARN_RATES[0], d["learn_rate"]), max(LEARN_RATES[1], d["learn_rate"])
    p["learn_rate"] = trial.suggest_float("learn_rate", low, high, log=True)
    p["loss"] = trial.suggest_categorical("loss", LOSS_KINDS)
    if p["loss"] == "kl":
        p["temperature"] = trial.suggest_categorical("temperature", _with(TEMPERATURES, d.get("temperature", 1.0)))
    p["alpha"] = trial.suggest_categorical("alpha", _with(ALPHAS, d["alpha"]))
    if space.has_unlabelled:
        p["unlabelled"] = trial.suggest_categorical("unlabelled", (True, False))
    p["n_iter"] = trial.suggest_categorical("n_iter", _with(space.n_iter_choices, d["n_iter"]))
    if p["n_iter"] > 0:
        for name in RATES:
            p[name] = trial.suggest_categorical(name, rate_choices(space, name))
    return p


@dataclass
class TrialPlan:
    """A trial as spaCy sees it: a stock config, dotted overrides, and the transfer set's make-up."""

    config: Path
    overrides: Dict[str, Any]
    makeup: MakeUp
    epochs: int


def trial_plan(params: Dict[str, Any], space: SearchSpace) -> TrialPlan:
    """Turn a trial's params into a config and overrides (and a transfer-set make-up)."""
    arch = params["arch"]
    vectors = bool(params.get("static_vectors")) and space.vectors is not None
    overrides: Dict[str, Any] = {
        "training.max_epochs": params["epochs"],
        "training.optimizer.learn_rate": params["learn_rate"],
        f"{LOSS_SECTION}.kind": params["loss"],
        f"{LOSS_SECTION}.temperature": params.get("temperature", 1.0),
        f"{LOSS_SECTION}.alpha": params["alpha"],
        "paths.vectors": space.vectors if vectors else None,
    }
    if arch in BOW_SECTION:
        overrides[f"{BOW_SECTION[arch]}.ngram_size"] = params["ngram_size"]
        overrides[f"{BOW_SECTION[arch]}.length"] = 2 ** params["length_log2"]
    if arch != "bow":
        overrides[f"{TOK2VEC_SECTION}.embed.width"] = params["width"]
        overrides[f"{TOK2VEC_SECTION}.encode.width"] = params["width"]
        overrides[f"{TOK2VEC_SECTION}.encode.depth"] = params["depth"]
        overrides[f"{TOK2VEC_SECTION}.embed.include_static_vectors"] = vectors
    n_iter = params["n_iter"]
    makeup = MakeUp(
        n_iter=n_iter, unlabelled=bool(params.get("unlabelled", space.has_unlabelled)),
        **{name: (float(params.get(name, 0.0)) if n_iter > 0 else 0.0) for name in RATES},
    )
    return TrialPlan(Path(space.configs_dir) / ARCH_CONFIGS[arch], overrides, makeup, params["epochs"])


# Pinned settings of a chosen student's config


def pinned_keys(config: Config) -> List[str]:
    """The dotted settings a config pins (`[search] pinned`); [] for other configs."""
    return list((config.get(PINNED_SECTION) or {}).get("pinned", []))


def drop_pinned(overrides: Dict[str, Any], config: Config) -> Dict[str, Any]:
    """The command-line overrides that the config does not pin, and the ones dropped.

    RETURNS (Dict[str, Any]): The dropped overrides (key: value given); `overrides` is changed.
    """
    dropped = {}
    for key in pinned_keys(config):
        if key in overrides:
            dropped[key] = overrides.pop(key)
    return dropped


# The trial's training logger


class TrialStop(Exception):
    """Raised by the trial logger to end training; `spacy train` keeps the best checkpoint."""

    def __init__(self, reason: str, step: int, epoch: int, best: float):
        super().__init__(f"{reason} at step {step} (epoch {epoch}), best dev score {best:.3f}")
        self.reason = reason
        self.step = step
        self.epoch = epoch
        self.best = best


class TrialTimeUp(TrialStop):
    """The trial used its training time: the best checkpoint so far is the trial's student."""


class TrialHopeless(TrialStop):
    """The trial's dev score after its first epoch(s) is far below the baseline's: pruned."""


@dataclass
class StopRule:
    """When the trial logger ends training.

    max_seconds (Optional[float]): Training time; None for no limit.
    prune_below (Optional[float]): Prune when the best dev score so far is below this, once
        `prune_after_epochs` passes are done; None for no pruning. A score of exactly 0 is the
        student's warm-up (see DistillTextCategorizer), not judged.
    prune_after_epochs (int): Full passes over the transfer set before pruning can apply.
    """

    max_seconds: Optional[float] = None
    prune_below: Optional[float] = None
    prune_after_epochs: int = 1
    best: float = field(default=0.0)

    def check(self, info: Dict[str, Any]) -> None:
        """Raise TrialHopeless or TrialTimeUp after an evaluation, as the rule says."""
        self.best = max(self.best, float(info.get("score") or 0.0))
        step, epoch = int(info["step"]), int(info["epoch"])
        if (self.prune_below is not None and epoch >= self.prune_after_epochs and self.best > 0.0
                and self.best < self.prune_below):
            raise TrialHopeless("pruned: far below the baseline", step, epoch, self.best)
        if self.max_seconds and info.get("seconds", 0) >= self.max_seconds:
            raise TrialTimeUp(f"stopped after {self.max_seconds:g} s", step, epoch, self.best)


@util.registry.loggers(LOGGER)
def make_trial_logger(
    max_seconds: Optional[float] = None,
    prune_below: Optional[float] = None,
    prune_after_epochs: int = 1,
    console_output: bool = True,
) -> Callable:
    """spaCy's console logger (v3) that also ends a trial's training (see `StopRule`)."""
    base = console_logger_v3(progress_bar=None, console_output=console_output)
    rule = StopRule(max_seconds, prune_below, prune_after_epochs)

    def setup(nlp, stdout, stderr) -> Tuple[Callable, Callable]:
        log_step, finalize = base(nlp, stdout, stderr)

        def log_and_check(info: Optional[Dict[str, Any]]) -> None:
            log_step(info)
            if info is not None and info.get("score") is not None:
                rule.check(info)

        return log_and_check, finalize

    return setup
