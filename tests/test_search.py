import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from thinc.api import Config

optuna = pytest.importorskip("optuna", reason="the search needs the `search` extra: pip install -e '.[search]'")

from distill_spacy.ablation import AblationSettings  # noqa: E402
from distill_spacy.data import preprocess  # noqa: E402
from distill_spacy.errors import UserError  # noqa: E402
from distill_spacy.shards import iter_docs  # noqa: E402
from distill_spacy.search import (  # noqa: E402
    DEV_PRED, SearchSettings, chosen_config, resolve_metric, run_search,
)
from distill_spacy.search_space import (  # noqa: E402
    LOGGER, SearchSpace, StopRule, TrialHopeless, TrialTimeUp, default_params, drop_pinned, pinned_keys,
    suggest, trial_plan,
)

ROOT = Path(__file__).parent.parent
CONFIGS = ROOT / "configs"
TRAIN = [
    ("Great product. Would buy again!", "positive"),
    ("Love it. The sound is excellent and the battery works fine.", "positive"),
    ("Perfect price. Really good quality.", "positive"),
    ("It works. I loved this product, great screen.", "positive"),
    ("Awful product. Never again.", "negative"),
    ("I hate it. The battery broke and the sound was terrible.", "negative"),
    ("Poor quality. A waste of money.", "negative"),
    ("It broke. I returned it, bad screen.", "negative"),
]
DEV = [("good sound", "positive"), ("bad battery", "negative"), ("excellent", "positive"), ("awful", "negative")]
TEST = [("great price", "positive"), ("terrible screen", "negative"), ("would buy it", "positive")]
UNLABELLED = ["the screen is fine", "it was not very good", "sound is great", "the battery broke again"]
RATES = {"p_mask": 0.1, "p_pos": 0.1, "p_ng": 0.25, "p_sent": 0.25}


def write_csv(path: Path, rows) -> Path:
    path.write_text("text,label\n" + "\n".join(f'"{t}",{l}' for t, l in rows) + "\n", encoding="utf8")
    return path


def space_for(arch="bow", n_labels=2, epochs=2, n_iter=0, unlabelled=False, vectors=None, loss="kl"):
    default = default_params(arch, n_labels, epochs, loss, 1.0, 0.5, n_iter, RATES, unlabelled, vectors, CONFIGS)
    return SearchSpace(n_labels, epochs, default, (0, 1), vectors, unlabelled, CONFIGS)


def test_default_params_follow_the_config_and_vars():
    params = default_params("bow", 2, 30, "kl", 2.0, 0.5, 0, RATES, True, None, CONFIGS)
    assert params == {
        "arch": "bow", "learn_rate": 0.001, "ngram_size": 2, "length_log2": 18, "epochs": 30, "loss": "kl",
        "temperature": 2.0, "alpha": 0.5, "n_iter": 0, "unlabelled": True,
        "p_mask": 0.0, "p_pos": 0.0, "p_ng": 0.0, "p_sent": 0.0,
    }
    # 77 labels: the size rule's 2^14 rows; cnn_vectors is the CNN with static vectors.
    assert default_params("bow", 77, 30, "kl", 1.0, 0.5, 0, RATES, False, None, CONFIGS)["length_log2"] == 14
    cnn = default_params("cnn_vectors", 2, 4, "mse_probs", 1.0, 0.0, 3, RATES, False, "corpus/vectors", CONFIGS)
    assert (cnn["arch"], cnn["static_vectors"], cnn["width"], cnn["depth"]) == ("cnn", True, 64, 2)
    assert "temperature" not in cnn and cnn["p_ng"] == 0.25
    with pytest.raises(UserError, match="student_arch 'search'"):
        default_params("search", 2, 30, "kl", 1.0, 0.5, 0, RATES, False, None, CONFIGS)


def test_default_point_is_inside_the_space_and_gives_the_default_config():
    space = space_for(epochs=30, unlabelled=True)
    params = suggest(optuna.trial.FixedTrial(space.default), space)
    assert params == {k: v for k, v in space.default.items() if not k.startswith("p_")}
    plan = trial_plan(params, space)
    assert plan.config == CONFIGS / "student_bow.cfg"
    assert plan.overrides == {
        "training.max_epochs": 30, "training.optimizer.learn_rate": 0.001,
        "components.textcat.loss.kind": "kl", "components.textcat.loss.temperature": 1.0,
        "components.textcat.loss.alpha": 0.5, "paths.vectors": None,
        "components.textcat.model.ngram_size": 2, "components.textcat.model.length": 2**18,
    }
    assert (plan.makeup.n_iter, plan.makeup.unlabelled, plan.makeup.rates()) == (0, True, dict.fromkeys(RATES, 0.0))


def test_ensemble_plan_sets_both_models_and_vectors():
    space = space_for(vectors="corpus/vectors")
    params = {"arch": "ensemble", "static_vectors": True, "ngram_size": 1, "length_log2": 13, "width": 32,
              "depth": 3, "epochs": 2, "learn_rate": 0.002, "loss": "mse_logprobs", "alpha": 0.0, "n_iter": 1,
              "p_mask": 0.1, "p_pos": 0.0, "p_ng": 0.25, "p_sent": 0.0}
    plan = trial_plan(params, space)
    assert plan.config == CONFIGS / "student_ensemble.cfg"
    o = plan.overrides
    assert o["components.textcat.model.linear_model.length"] == 2**13
    assert o["components.textcat.model.tok2vec.embed.width"] == o["components.textcat.model.tok2vec.encode.width"] == 32
    assert o["components.textcat.model.tok2vec.embed.include_static_vectors"] is True
    assert o["paths.vectors"] == "corpus/vectors" and o["components.textcat.loss.temperature"] == 1.0
    assert plan.makeup.rates() == {"p_mask": 0.1, "p_pos": 0.0, "p_ng": 0.25, "p_sent": 0.0}
    # Every override names a setting of the stock config: nothing is invented per trial.
    config = Config().from_disk(plan.config, interpolate=False, overrides=o)
    assert config["components"]["textcat"]["model"]["tok2vec"]["encode"]["depth"] == 3


def test_space_holds_no_vectors_setting_without_vectors():
    space = space_for()
    study = optuna.create_study(directions=["maximize"], sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        params = suggest(trial, space)
        study.tell(trial, 0.0)
        assert "static_vectors" not in params and "unlabelled" not in params
        assert params["n_iter"] in (0, 1) and 1 <= params["epochs"] <= 2
        if params["n_iter"] == 0:
            assert not any(k.startswith("p_") for k in params)


@pytest.mark.parametrize("info,error", [
    ({"score": 0.0, "step": 10, "epoch": 1, "seconds": 1}, None),  # warm-up: not judged
    ({"score": 0.4, "step": 10, "epoch": 0, "seconds": 1}, None),  # first epoch not done
    ({"score": 0.4, "step": 10, "epoch": 1, "seconds": 1}, TrialHopeless),
    ({"score": 0.7, "step": 10, "epoch": 1, "seconds": 1}, None),
    ({"score": 0.7, "step": 10, "epoch": 1, "seconds": 60}, TrialTimeUp),
])
def test_stop_rule(info, error):
    rule = StopRule(max_seconds=60, prune_below=0.6, prune_after_epochs=1)
    if error is None:
        rule.check(info)
    else:
        with pytest.raises(error) as e:
            rule.check(info)
        assert (e.value.step, e.value.epoch) == (10, 1)


def test_stop_rule_judges_the_best_score_so_far():
    rule = StopRule(prune_below=0.6)
    rule.check({"score": 0.65, "step": 100, "epoch": 0})
    rule.check({"score": 0.5, "step": 200, "epoch": 1})  # the best so far, 0.65, is above the line


def record(number, score, latency, size, state="COMPLETE", default=False):
    return {"number": number, "state": state, "dev_score": score, "latency_ms_p50": latency,
            "folder_mb": size, "default": default}


def test_resolve_metric():
    assert resolve_metric("auto", ["a", "b", "a", "b"]) == "accuracy"
    assert resolve_metric("auto", ["a", "a", "a", "b"]) == "macro_f1"
    assert resolve_metric("accuracy", ["a", "a", "a", "b"]) == "accuracy"
    with pytest.raises(UserError, match="search_metric"):
        resolve_metric("f1", ["a"])


def test_chosen_config_pins_the_trials_settings(tmp_path):
    space = space_for()
    plan = trial_plan(suggest(optuna.trial.FixedTrial(space.default), space), space)
    chosen = {**record(7, 0.8, 0.1, 2.4), "config": str(plan.config), "overrides": plan.overrides,
              "makeup": {"n_iter": 0}, "max_steps": 300}
    path = tmp_path / "student_search.cfg"
    path.write_text(chosen_config(chosen, "corpus/transfer_search.spacy", "student-x"), encoding="utf8")
    config = Config().from_disk(path, interpolate=False)
    assert config["paths"]["train"] == "corpus/transfer_search.spacy"
    assert config["training"]["max_steps"] == 300 and config["search"]["trial"] == 7
    assert "paths.train" in pinned_keys(config) and "training.max_epochs" in pinned_keys(config)
    overrides = {"paths.train": "corpus/transfer.spacy", "paths.dev": "corpus/dev.spacy",
                 "components.textcat.loss.alpha": 0.0}
    assert drop_pinned(overrides, config) == {"paths.train": "corpus/transfer.spacy",
                                              "components.textcat.loss.alpha": 0.0}
    assert overrides == {"paths.dev": "corpus/dev.spacy"}


# A tiny study end to end


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_teacher):
    """Tiny splits, the tiny teacher with random output weights, and an untrained baseline."""
    import numpy

    tmp = tmp_path_factory.mktemp("search")
    inputs = {name: write_csv(tmp / f"{name}.csv", rows) for name, rows in
              {"train": TRAIN, "dev": DEV, "test": TEST}.items()}
    preprocess(inputs, tmp / "corpus")
    (tmp / "unlabelled.txt").write_text("\n".join(UNLABELLED) + "\n", encoding="utf8")
    nlp = spacy.load(tiny_teacher)
    rng = numpy.random.default_rng(0)
    for node in nlp.get_pipe("textcat").model.walk():
        for name in node.param_names:
            if node.has_param(name) and not node.get_param(name).any():
                value = node.get_param(name)
                node.set_param(name, rng.normal(0, 1, value.shape).astype(value.dtype))
    nlp.to_disk(tmp / "teacher")
    return tmp


def search_once(project: Path, trials: int, budget_ms: float = 0.0, choose_only: bool = False,
                confidence: float = 0.95):
    corpus = project / "corpus"
    space = space_for(epochs=2, unlabelled=True)
    recipe = AblationSettings(unlabelled=project / "unlabelled.txt", pos_model="", student_epochs=2)
    settings = SearchSettings(recipe=recipe, trials=trials, trial_seconds=None, timing_texts=4, timing_repeats=1,
                              confidence=confidence)
    return run_search(
        project / "teacher", None, corpus / "train.spacy", corpus / "dev.spacy", corpus / "test.spacy",
        space, settings, project / "study.sqlite", project / "search", project / "search.json",
        project / "student_search.cfg", project / "transfer_search.spacy", project / "cache.sqlite",
        budget_ms, choose_only,
    )


def test_tiny_study_writes_the_front_resumes_and_chooses_within_the_budget(project):
    first = search_once(project, trials=3)
    assert [t["number"] for t in first["trials"]] == [0, 1, 2]
    assert first["trials"][0]["default"] and first["default_trial"] == 0
    assert first["trials"][0]["params"]["arch"] == "bow" and first["trials"][0]["params"]["epochs"] == 2
    complete = [t for t in first["trials"] if t["state"] == "COMPLETE"]
    assert complete and first["front"]
    for t in complete:
        assert 0 <= t["dev_score"] <= 1 and t["latency_ms_p50"] > 0 and t["folder_mb"] > 0
        assert Path(t["model"]).is_dir() and t["transfer_texts"] >= len(TRAIN)
    chosen = next(t for t in first["trials"] if t["chosen"])
    assert chosen["number"] == first["chosen_trial"]
    # Four dev texts: no trial can beat the default by more than dev noise, so the default stays.
    assert chosen["default"] and "dev noise" in first["choice"]["rule"]
    within = [t for t in complete if t["latency_ms_p50"] <= first["latency_budget_ms"] and not t["default"]]
    assert all(t["dev_gain_lower"] <= 0 for t in within)
    assert all(DEV_PRED not in t for t in first["trials"])  # kept in the study, not in search.json
    assert chosen["latency_ms_p50"] <= first["latency_budget_ms"] == pytest.approx(
        2 * first["trials"][0]["latency_ms_p50"])
    assert json.loads((project / "search.json").read_text(encoding="utf8"))["chosen_trial"] == chosen["number"]
    vocab = spacy.blank("en").vocab  # the chosen transfer set, copied shard by shard
    copied = [(d.text, d.cats) for d in iter_docs(project / "transfer_search.spacy", vocab)]
    assert copied == [(d.text, d.cats) for d in iter_docs(chosen["transfer"], vocab)] and copied

    # A rerun continues the same study: the first trials stay, one more runs.
    second = search_once(project, trials=4)
    assert second["study"] == first["study"] and len(second["trials"]) == 4
    for old, new in zip(first["trials"], second["trials"]):
        assert (old["number"], old["params"], old.get("dev_score")) == (new["number"], new["params"], new.get("dev_score"))

    # Another budget, no new trial: the fastest complete trial's latency takes the fastest point.
    fastest = min((t for t in second["trials"] if t["state"] == "COMPLETE"), key=lambda t: t["latency_ms_p50"])
    third = search_once(project, trials=99, budget_ms=fastest["latency_ms_p50"], choose_only=True)
    assert len(third["trials"]) == 4 and third["latency_budget_rule"] == "given"
    assert next(t for t in third["trials"] if t["chosen"])["latency_ms_p50"] <= fastest["latency_ms_p50"]
    # With no margin (confidence 0) the choice is the best dev score within the budget: on the front.
    fourth = search_once(project, trials=99, choose_only=True, confidence=0)
    best = max(t["dev_score"] for t in fourth["trials"]
               if t["state"] == "COMPLETE" and t["latency_ms_p50"] <= fourth["latency_budget_ms"])
    chosen = next(t for t in fourth["trials"] if t["chosen"])
    assert chosen["number"] in fourth["front"] and chosen["dev_score"] == best


def test_chosen_config_trains_with_train_student_and_keeps_its_settings(project, tmp_path):
    if not (project / "student_search.cfg").exists():
        search_once(project, trials=3)
    config = Config().from_disk(project / "student_search.cfg", interpolate=False)
    # the project's command passes the default's settings: the pinned ones must not replace the search's
    cmd = [
        sys.executable, str(ROOT / "scripts" / "train_student.py"), str(project / "student_search.cfg"),
        str(tmp_path / "student"), "--labels", str(project / "corpus" / "labels.json"),
        "--paths.train", str(project / "corpus" / "train.spacy"), "--paths.dev", str(project / "corpus" / "dev.spacy"),
        "--training.max_epochs", "7", "--components.textcat.loss.alpha", "0.99",
    ]
    config["paths"]["train"] = str(project / "transfer_search.spacy")  # absolute for the test's cwd
    config.to_disk(project / "student_search.cfg")
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    trained = spacy.load(tmp_path / "student" / "model-stock").config
    assert trained["training"]["max_epochs"] == config["training"]["max_epochs"]
    assert trained["paths"]["train"] == str(project / "transfer_search.spacy")
    assert trained["training"]["logger"]["@loggers"] != LOGGER  # the trial's logger is not part of it


def test_report_shows_the_front(project, tmp_path):
    from distill_spacy.plots import plot_search_front
    from distill_spacy.report import render_markdown

    if not (project / "search.json").exists():
        search_once(project, trials=3)
    search = json.loads((project / "search.json").read_text(encoding="utf8"))
    markdown = render_markdown({"models": {}, "labels": [], "search": search})
    section = markdown[markdown.index("## Search"):]
    assert "![Search front" in section and f"chosen: trial {search['chosen_trial']}" in section
    table_rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    shown = [int(row.split("|")[1]) for row in table_rows]
    assert set(search["front"]) <= set(shown) and search["default_trial"] in shown
    assert "**chosen**" in table_rows[shown.index(search["chosen_trial"])]
    path = plot_search_front(search, tmp_path / "front.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "## Search" not in render_markdown({"models": {}, "labels": []})


def test_trial_logger_stops_spacy_training_and_keeps_the_best_checkpoint(project, tmp_path):
    from distill_spacy.ablation import train_student

    corpus = project / "corpus"
    overrides = {"components.textcat.warmup_examples": 0, "training.eval_frequency": 1,
                 "training.logger": {"@loggers": LOGGER, "prune_below": 1.01, "console_output": False}}
    with pytest.raises(TrialHopeless) as e:
        train_student(CONFIGS / "student_bow.cfg", corpus / "train.spacy", corpus / "dev.spacy", tmp_path,
                      epochs=3, overrides=overrides)
    assert e.value.epoch == 1
    assert (tmp_path / "model-best" / "config.cfg").exists()


def test_sentence_set_and_benchmark_table():
    from distill_spacy.search_benchmark import search_benchmark_table, split_sentences

    assert split_sentences(["Great shoes. They broke after a week!", "Fine."]) == [
        ["Great shoes.", "They broke after a week!"], ["Fine."]]
    figures = {"accuracy": 0.8, "macro_f1": 0.8, "latency_ms_p50": 0.1, "folder_bytes": 2_400_000}
    row = {"set": "reviews", "default": figures, "chosen": {**figures, "accuracy": 0.815, "latency_ms_p50": 0.15},
           "accuracy_gain": 0.015, "latency_ratio": 1.5, "counts": {"complete": 28, "pruned": 2, "failed": 0},
           "default_on_front": False, "search_s": 1500, "target_met": True,
           "rival": {"trial": 11, "dev_gain": 0.025, "dev_gain_lower": 0.004}}
    table = search_benchmark_table([row])
    assert ("| reviews | 0.800 / 0.1 / 2.4 | 0.815 / 0.15 / 2.4 | +1.5 | 1.50x | 28 / 2 / 0 | no | trial 11: +2.5, +0.4 "
            "| 25.0 min | yes |") in table



def test_default_rates_are_the_augmenters_defaults():
    from distill_spacy.augment import default_augmenter_specs
    from distill_spacy.search_space import DEFAULT_RATES, recipe_rates

    assert DEFAULT_RATES == recipe_rates(default_augmenter_specs())


def test_cli_reruns_over_its_own_outputs(project, tmp_path):
    """A second run finds corpus/transfer_search.spacy as a folder of shards: the CLI must take it,
    and a choice without a study says which study is missing (no traceback, nothing written)."""
    from distill_spacy.augmenters import default_augmenter_specs

    transfer_out = tmp_path / "transfer_search.spacy"
    (transfer_out / "shard").mkdir(parents=True)  # as the first run leaves it
    summary = tmp_path / "transfer.summary.json"
    summary.write_text(json.dumps({"settings": {
        "augmenters": default_augmenter_specs(), "n_iter": 0, "budget": 100, "pos_model": "", "seed": 0,
        "lang": "en", "inputs": {}}}), encoding="utf8")
    corpus = project / "corpus"
    cmd = [
        sys.executable, str(ROOT / "scripts" / "search.py"), str(project / "teacher"), str(project / "teacher"),
        str(corpus / "train.spacy"), str(corpus / "dev.spacy"), str(corpus / "test.spacy"),
        "--labels", str(corpus / "labels.json"), "--study", str(tmp_path / "study.sqlite"),
        "--output-dir", str(tmp_path / "search"), "--metrics", str(tmp_path / "search.json"),
        "--config-out", str(tmp_path / "student_search.cfg"), "--transfer-out", str(transfer_out),
        "--cache", str(tmp_path / "cache.sqlite"), "--configs-dir", str(CONFIGS),
        "--student-config", str(CONFIGS / "student_bow.cfg"), "--transfer-summary", str(summary),
        "--choose-only",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "is a directory" not in output, output[-2000:]
    assert "[E705]" in output and "Traceback" not in output
    assert not (tmp_path / "search.json").exists() and not (tmp_path / "student_search.cfg").exists()
