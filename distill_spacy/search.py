"""Search for the students on the accuracy-latency-size front: a multi-objective Optuna study.

Each trial draws a student and a transfer-set make-up (`search_space.suggest`), trains it with
spaCy's training API as `train-student` does (`ablation.train_student`), converts it to the stock
pipeline that ships (`student.convert_to_stock`) and measures three objectives on the dev set: the
dev score (accuracy, or macro-F1 for skewed labels) up, the p50 latency per message (`nlp(text)`
on a warm CPU, `cost.measure_speed` as `evaluate` uses it) down, and the folder size down. The
test set is never read here (only by the leakage guard of augmentation).

Transfer sets are built once per make-up and reused across trials and runs; their texts are
labelled through the project's label cache, so only new augmented texts meet the teacher. The
study lives in SQLite: Ctrl-C and a rerun continue it. The chosen student (within a latency budget,
the default unless a trial beats it on dev by more than dev noise: `search_choice`) is written as a
complete config that pins the chosen settings.

This module runs the teacher (through `label`) and imports Optuna inside its functions.
"""
import json
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import spacy
from thinc.api import Config
from wasabi import msg

from . import errors
from .ablation import AblationSettings, _jsonable, input_fingerprints, train_student
from .cost import folder_size, machine_info, measure_speed
from .data import PathLike, fingerprint
from .evaluate import classification_metrics, dev_score, predict_from_probs, predict_probs, read_gold
from .search_choice import (
    CONFIDENCE, DIRECTIONS, OBJECTIVES, best_rival, choose, gain_lower_bounds, latency_budget, pareto_front,
    within_budget,
)
from .search_space import (
    ARCH_CONFIGS, LOGGER, PINNED_SECTION, SearchSpace, TrialHopeless, TrialTimeUp, search_error, suggest,
    trial_plan,
)
from .search_transfer import TransferSets, digest
from .shards import ShardWriter, count_docs, iter_docs
from .student import convert_to_stock

DEV_PRED = "dev_pred"  # a trial's dev predictions (label indices), stored in the study for the choice
# Labels count as skewed (macro-F1 instead of accuracy) when the most frequent dev label has at
# least this many times the examples of the least frequent one.
SKEW_RATIO = 2.0


@dataclass
class SearchSettings:
    """How the study runs.

    recipe (AblationSettings): The main run's transfer-set and labelling settings (trial 0's).
    trials (int): Finished (complete or pruned) trials the study should hold.
    timeout (Optional[float]): Seconds for this run's new trials; None for no limit.
    trial_seconds (Optional[float]): Training time of a trial (trial 0, the default, has none).
    metric (str): "accuracy", "macro_f1" or "auto" (macro-F1 when the dev labels are skewed).
    prune_margin (Optional[float]): Prune a trial whose dev score after `prune_after_epochs`
        passes is this far below the baseline's; None for no pruning.
    timing_texts (int): Dev texts timed one by one; timing_repeats (int): repeats (median).
    confidence (float): How sure the choice must be that a trial beats the default on texts like the
        dev set's before it replaces it (`search_choice`); 0: the best dev score wins.
    """

    recipe: AblationSettings = field(default_factory=AblationSettings)
    trials: int = 30
    timeout: Optional[float] = None
    trial_seconds: Optional[float] = 60.0
    metric: str = "auto"
    prune_margin: Optional[float] = 0.05
    prune_after_epochs: int = 1
    timing_texts: int = 300
    timing_repeats: int = 3
    confidence: float = CONFIDENCE
    seed: int = 0


def resolve_metric(metric: str, gold: Sequence[str]) -> str:
    """"accuracy" or "macro_f1"; "auto" picks macro-F1 when the dev labels are skewed."""
    if metric not in ("auto", "accuracy", "macro_f1"):
        raise search_error(errors.E_SEARCH_METRIC, metric=metric)
    if metric != "auto":
        return metric
    counts = Counter(gold).values()
    return "macro_f1" if max(counts) >= SKEW_RATIO * min(counts) else "accuracy"


class Search:
    """One run of the study: the data, the space, the stop rules and the objective."""

    def __init__(self, space: SearchSpace, settings: SearchSettings, transfer: TransferSets,
                 dev: PathLike, output_dir: PathLike, baseline_score: Optional[float]):
        self.space, self.settings, self.transfer = space, settings, transfer
        self.dev = dev
        self.output_dir = Path(output_dir)
        self.texts, self.gold, self.labels = read_gold(dev)
        self.metric = resolve_metric(settings.metric, self.gold)
        margin = settings.prune_margin
        self.prune_below = baseline_score - margin if baseline_score is not None and margin is not None else None

    def objective(self, trial) -> List[float]:
        """Train, convert and measure one trial; RETURNS [dev score, p50 ms, folder MB]."""
        import optuna

        start = time.perf_counter()
        params = suggest(trial, self.space)
        plan = trial_plan(params, self.space)
        default = bool(trial.user_attrs.get("default"))
        trial.set_user_attr("config", str(plan.config))
        trial.set_user_attr("overrides", _jsonable(plan.overrides))
        trial.set_user_attr("makeup", asdict(plan.makeup))
        data = self.transfer.get(plan.makeup)
        trial.set_user_attr("transfer", str(data))
        trial.set_user_attr("transfer_texts", count_docs(data))
        folder = self.output_dir / "trials" / f"{trial.number:03d}"
        shutil.rmtree(folder, ignore_errors=True)
        overrides = dict(plan.overrides)
        # Trial 0 is the default student as `all` trains it: no time limit, never pruned.
        overrides["training.logger"] = {
            "@loggers": LOGGER, "console_output": False,
            "max_seconds": None if default else self.settings.trial_seconds,
            "prune_below": None if default else self.prune_below,
            "prune_after_epochs": self.settings.prune_after_epochs,
        }
        r = self.settings.recipe
        msg.divider(f"Trial {trial.number}{' (the default student)' if default else ''}")
        msg.text(json.dumps(params))
        stopped, train_start = "finished", time.perf_counter()
        try:
            train_student(plan.config, data, self.dev, folder, plan.epochs, r.lang, r.gpu_id, overrides)
        except TrialHopeless as e:
            trial.set_user_attr("stopped", "pruned")
            trial.set_user_attr("best_dev_cats_score", e.best)
            trial.set_user_attr("epochs_done", e.epoch)
            shutil.rmtree(folder, ignore_errors=True)
            msg.warn(f"Trial {trial.number} {e}")
            raise optuna.TrialPruned(str(e)) from None
        except TrialTimeUp as e:
            stopped = "time"
            trial.set_user_attr("max_steps", e.step)
            trial.set_user_attr("epochs_done", e.epoch)
        trial.set_user_attr("stopped", stopped)
        trial.set_user_attr("train_seconds", round(time.perf_counter() - train_start, 1))
        stock = convert_to_stock(folder / "model-best", folder / "model-stock")
        for name in ("model-best", "model-last"):
            shutil.rmtree(folder / name, ignore_errors=True)
        values = self.measure(trial, stock)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 1))
        msg.good(f"Trial {trial.number}: dev {self.metric} {values[0]:.3f}, p50 {values[1]:.3f} ms, "
                 f"{values[2]:.1f} MB ({stopped})")
        return values

    def dev_predictions(self, records: Sequence[Dict[str, Any]]) -> Dict[int, List[int]]:
        """Each complete trial's dev predictions (label indices): stored with the trial, or, for a
        trial of an older version that lacks them, predicted again by its saved student."""
        preds, missing = {}, []
        for r in records:
            if r["state"] != "COMPLETE":
                continue
            if r.get(DEV_PRED) is not None:
                preds[r["number"]] = r[DEV_PRED]
            elif r.get("model") and Path(r["model"]).exists():
                probs = predict_probs(spacy.load(r["model"]), self.texts, self.labels)
                preds[r["number"]] = probs.argmax(axis=1).tolist()
            else:
                missing.append(r["number"])
        if missing:
            msg.warn(errors.W_SEARCH_NO_PREDICTIONS.format(n=len(missing), trials=missing))
        return preds

    def gain_bounds(self, records: Sequence[Dict[str, Any]], budget_ms: float) -> Optional[Dict[int, float]]:
        """The lower bounds of the dev gain over the default of the trials within the budget
        (`search_choice.gain_lower_bounds`); None when the default is not within the budget."""
        within = within_budget(records, budget_ms)
        default = next((r["number"] for r in within if r["default"]), None)
        if default is None:
            return None
        preds = self.dev_predictions(within)
        if default not in preds:
            return None
        gold = [self.labels.index(label) for label in self.gold]
        return gain_lower_bounds(gold, preds, default, len(self.labels), self.metric, self.settings.confidence,
                                 seed=self.settings.seed)

    def measure(self, trial, stock: Path) -> List[float]:
        """Dev quality, warm CPU latency and folder size of the converted student."""
        nlp = spacy.load(stock)
        probs = predict_probs(nlp, self.texts, self.labels)
        pred = predict_from_probs(probs, self.labels)
        quality = classification_metrics(self.gold, pred, self.labels)
        texts = self.texts[: self.settings.timing_texts]
        speed = measure_speed(nlp, texts, n_single=len(texts), repeats=self.settings.timing_repeats)
        size = folder_size(stock)
        trial.set_user_attr("model", str(stock))
        trial.set_user_attr(DEV_PRED, probs.argmax(axis=1).tolist())
        trial.set_user_attr("dev_accuracy", quality["accuracy"])
        trial.set_user_attr("dev_macro_f1", quality["macro_f1"])
        trial.set_user_attr("latency_ms_p95", speed["latency_ms_p95"])
        trial.set_user_attr("pipe_docs_per_s", speed["pipe_docs_per_s"])
        trial.set_user_attr("contention", speed["contention"])
        trial.set_user_attr("folder_bytes", size)
        return [quality[self.metric], speed["latency_ms_p50"], size / 1e6]


# Trials as records, the choice, the outputs


def choice_rule(against_default: bool, confidence: float) -> str:
    """The choice rule in words, for search.json and the report."""
    if not against_default:
        return "the best dev score within the budget (no default student within it to compare with)"
    if confidence <= 0:
        return "the best dev score within the budget"
    return (f"the default student, unless trials within the budget beat it on dev by more than dev noise "
            f"(simultaneous {100 * confidence:g}% paired-bootstrap lower bound of the gain above 0): "
            "then the best dev score among those")


def trial_record(trial) -> Dict[str, Any]:
    """A finished Optuna trial as a plain dict (one item of search.json's "trials")."""
    record = {"number": trial.number, "state": trial.state.name, "params": trial.params,
              **{key: value for key, value in trial.user_attrs.items()}}
    record["default"] = bool(record.get("default"))
    if trial.values is not None:
        record.update(zip(OBJECTIVES, trial.values))
    if trial.state.name == "FAIL":
        record["error"] = trial.system_attrs.get("fail_reason")
    return record


def chosen_config(record: Dict[str, Any], transfer_out: PathLike, study: str) -> str:
    """The chosen student's complete config: its stock config with the trial's overrides, its own
    transfer set as paths.train, and `[search] pinned` naming what train-student must keep."""
    overrides = dict(record["overrides"])
    overrides["paths.train"] = str(transfer_out)
    if record.get("max_steps"):  # stopped by the trial's time limit: train exactly as far again
        overrides["training.max_steps"] = record["max_steps"]
    config = Config().from_disk(record["config"], interpolate=False, overrides=overrides)
    config[PINNED_SECTION] = {
        "study": study, "trial": record["number"], "pinned": sorted(overrides),
        "makeup": record["makeup"], "dev_score": record["dev_score"],
        "latency_ms_p50": record["latency_ms_p50"], "folder_mb": record["folder_mb"],
    }
    header = (
        f"# The student chosen by `spacy project run search` (trial {record['number']} of the study {study}),\n"
        "# written by scripts/search.py: regenerate it, do not edit it. The settings in [search] pinned\n"
        "# are the search's: scripts/train_student.py does not let command-line overrides replace them.\n"
    )
    return header + config.to_str()


def study_name(space: SearchSpace, settings: SearchSettings, inputs: Dict[str, str]) -> str:
    """A name for the study from what its trials' values depend on: new inputs, a new study."""
    recipe = {"space": space.describe(), "inputs": inputs, "metric": settings.metric,
              "trial_seconds": settings.trial_seconds, "prune_margin": settings.prune_margin,
              "timing": [settings.timing_texts, settings.timing_repeats], "seed": settings.seed,
              "transfer": {k: v for k, v in asdict(settings.recipe).items()
                           if k in ("augmenter_specs", "budget", "pos_model", "seed", "balance", "lang")}}
    return f"student-{digest(recipe)}"


def open_study(storage: PathLike, name: str, seed: int = 0, create: bool = True):
    """The study in SQLite; a rerun loads it. The sampler's seed moves on with each run."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{Path(storage).resolve()}"
    if not create:
        try:
            optuna.load_study(study_name=name, storage=url)
        except KeyError:
            raise search_error(errors.E_SEARCH_NO_STUDY, name=name, storage=storage) from None
    Path(storage).parent.mkdir(parents=True, exist_ok=True)
    probe = optuna.create_study(study_name=name, storage=url, directions=list(DIRECTIONS), load_if_exists=True)
    n = len(probe.trials)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed + n, multivariate=True, group=True, n_startup_trials=10)
    return optuna.load_study(study_name=name, storage=url, sampler=sampler)


def run_trials(study, search: Search, default: Dict[str, Any], trials: int, timeout: Optional[float]) -> None:
    """Run new trials until the study holds `trials` finished ones (or the timeout); trial 0 is
    the default student. Trials a killed run left running are marked failed."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        msg.warn(f"Trial {t.number} was left running by an earlier run: marked failed")
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.WAITING))
    if not any(t.user_attrs.get("default") for t in done):
        study.enqueue_trial(default, user_attrs={"default": True})
    finished = sum(t.state != TrialState.WAITING for t in done)
    remaining = trials - finished
    if remaining <= 0:
        msg.info(f"The study already holds {finished} finished trials (search_trials = {trials})")
        return
    msg.info(f"Running up to {remaining} new trials (study: {finished} finished)")
    study.optimize(search.objective, n_trials=remaining, timeout=timeout, catch=(Exception,))


def write_outputs(study, search: "Search", search_meta: Dict[str, Any], budget_ms: float, metrics: PathLike,
                  config_out: PathLike, transfer_out: PathLike) -> Dict[str, Any]:
    """Choose the student and write search.json, its config and its transfer set, together."""
    records = [trial_record(t) for t in study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
    budget = latency_budget(records, budget_ms)
    bounds = search.gain_bounds(records, budget)
    chosen = choose(records, budget, bounds)
    front = pareto_front(records)
    for r in records:
        r["on_front"] = r["number"] in front
        r["chosen"] = r["number"] == chosen["number"]
        r.pop(DEV_PRED, None)  # kept in the study; search.json stays readable
        if bounds is not None and r["number"] in bounds:
            r["dev_gain_lower"] = bounds[r["number"]]
    states = Counter(r["state"] for r in records)
    result = {
        **search_meta, "study": study.study_name,
        "objectives": dict(zip(OBJECTIVES, DIRECTIONS)),
        "counts": {"complete": states["COMPLETE"], "pruned": states["PRUNED"], "failed": states["FAIL"]},
        "latency_budget_ms": budget, "latency_budget_rule": "given" if budget_ms > 0 else "2x the default's p50",
        "default_trial": next((r["number"] for r in records if r["default"]), None),
        "chosen_trial": chosen["number"], "front": front,
        "choice": {"confidence": search.settings.confidence if bounds is not None else None,
                   "rule": choice_rule(bounds is not None, search.settings.confidence)},
        "config": str(config_out), "transfer": str(transfer_out), "machine": machine_info(),
        "trials": records,
    }
    # The chosen transfer set (shards) is committed together with search.json and the config.
    with ShardWriter(transfer_out) as writer:
        for doc in iter_docs(chosen["transfer"], spacy.blank("xx").vocab):
            writer.add(doc)
        writer.commit({
            metrics: json.dumps(_jsonable(result), indent=2) + "\n",
            config_out: chosen_config(chosen, transfer_out, study.study_name),
        })
    return result


def inputs_of(teacher: PathLike, train: PathLike, dev: PathLike, test: PathLike, configs: Sequence[PathLike],
              unlabelled: Optional[PathLike]) -> Dict[str, str]:
    """Hashes of what the trials depend on: the teacher, the data and the stock student configs."""
    inputs = input_fingerprints(teacher, train, dev, test, configs[0], unlabelled)
    inputs["config"] = digest([fingerprint(path) for path in configs])
    return inputs


def run_search(
    teacher: PathLike,
    baseline: Optional[PathLike],
    train: PathLike,
    dev: PathLike,
    test: PathLike,
    space: SearchSpace,
    settings: SearchSettings,
    storage: PathLike = "training/search/study.sqlite",
    output_dir: PathLike = "training/search",
    metrics: PathLike = "metrics/search.json",
    config_out: PathLike = "configs/student_search.cfg",
    transfer_out: PathLike = "corpus/transfer_search.spacy",
    cache: PathLike = "corpus/label_cache.sqlite",
    budget_ms: float = 0.0,
    choose_only: bool = False,
) -> Dict[str, Any]:
    """Run (or continue) the study, choose the student within the latency budget, write the outputs.

    teacher (PathLike): The trained teacher. baseline (Optional[PathLike]): The baseline, whose dev
        score sets the pruning threshold (None: no pruning).
    train, dev, test (PathLike): Gold DocBins; test only feeds the leakage guard of augmentation.
    space (SearchSpace): The space and its default point (trial 0).
    storage (PathLike): The study's SQLite file; the study's name hashes the inputs and the space,
        so new data or a retrained teacher starts a new study in the same file.
    output_dir (PathLike): Trials' students (`trials/<n>/model-stock`) and transfer sets.
    metrics, config_out, transfer_out (PathLike): search.json, the chosen config and its transfer
        set, written together.
    budget_ms (float): Latency budget; <= 0 for twice the default student's p50.
    choose_only (bool): Run no trial: choose from the finished study (another budget).
    RETURNS (Dict[str, Any]): The data written to `metrics`.
    """
    r = settings.recipe
    configs = [Path(space.configs_dir) / name for name in ARCH_CONFIGS.values()]
    inputs = inputs_of(teacher, train, dev, test, configs, r.unlabelled)
    name = study_name(space, settings, inputs)
    study = open_study(storage, name, settings.seed, create=not choose_only)
    baseline_score = baseline_dev_score(baseline)
    transfer = TransferSets(r, teacher, train, dev, test, cache, Path(output_dir) / "transfer", inputs)
    search = Search(space, settings, transfer, dev, output_dir, baseline_score)
    if not choose_only:
        if r.gpu_id >= 0:
            spacy.require_gpu(r.gpu_id)
        msg.info(f"Study {name} in {storage}: dev {search.metric} up, p50 latency down, folder size down")
        run_trials(study, search, space.default, settings.trials, settings.timeout)
    meta = {
        "storage": str(storage), "metric": search.metric, "baseline_dev_score": baseline_score,
        "prune_below": search.prune_below, "space": space.describe(),
        "settings": {k: v for k, v in asdict(settings).items() if k != "recipe"},
        "timing": {"texts": min(settings.timing_texts, len(search.texts)), "repeats": settings.timing_repeats,
                   "set": str(dev)},
    }
    result = write_outputs(study, search, meta, budget_ms, metrics, config_out, transfer_out)
    log_result(result)
    return result


def baseline_dev_score(baseline: Optional[PathLike]) -> Optional[float]:
    """The baseline's dev score as `spacy train` recorded it (the same scorer as the student's)."""
    return dev_score(baseline) if baseline else None


def log_result(result: Dict[str, Any]) -> None:
    """One summary line for the terminal, and what else the run found."""
    chosen = next(r for r in result["trials"] if r["chosen"])
    counts = result["counts"]
    msg.good(
        f"{counts['complete']} trials complete, {counts['pruned']} pruned, {counts['failed']} failed; "
        f"{len(result['front'])} on the front. Chose trial {chosen['number']}: dev {result['metric']} "
        f"{chosen['dev_score']:.3f}, p50 {chosen['latency_ms_p50']:.3f} ms (budget "
        f"{result['latency_budget_ms']:.3f} ms), {chosen['folder_mb']:.1f} MB"
    )
    if any(r["default"] and r["on_front"] for r in result["trials"]):
        msg.info("The default student (trial 0) is on the front")
    rival = best_rival(result["trials"], result["latency_budget_ms"])
    if chosen["default"] and rival and rival["dev_gain"] > 0 and rival["dev_gain_lower"] is not None:
        msg.info(f"Trial {rival['trial']} scores higher on dev than the default ({100 * rival['dev_gain']:+.1f} "
                 f"points), but not by more than dev noise (lower bound {100 * rival['dev_gain_lower']:+.1f}): "
                 "the default stays")
    if counts["failed"]:
        msg.warn(f"{counts['failed']} trials failed: see their 'error' in {result.get('storage')} / search.json")
