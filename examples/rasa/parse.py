"""Train the example Rasa NLU model and parse held-out messages with it (run in the Rasa venv).

    python examples/rasa/parse.py --model en_intents_student
    python examples/rasa/parse.py --model en_intents_student --benchmark 200

Uses Rasa's Python API (`train_nlu`, `Agent.load`, `parse_message`), which needs no licence key.
"""
import asyncio
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import typer
from srsly.ruamel_yaml import YAML

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

# Set before Rasa is imported (hence its imports inside the functions): Rasa imports litellm,
# which otherwise downloads a price list at import time (an ~8 s wait offline), and an example
# has no business sending telemetry.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def spacy_model_name(config: Path) -> Optional[str]:
    """The spaCy model that SpacyNLP loads in a Rasa config, or None without SpacyNLP."""
    data = YAML().load(config.read_text(encoding="utf8"))
    names = [c.get("model") for c in data.get("pipeline") or [] if c.get("name") == "SpacyNLP"]
    return names[0] if names else None


def language_mismatch(config: Path) -> Optional[str]:
    """A message when the spaCy model of SpacyNLP is for another language than the bot, else None.

    Rasa itself does not compare them, but a student of another language tokenizes every message
    wrongly: it is almost certainly the wrong wheel, or a `language:` left at `en`.
    """
    data = YAML().load(config.read_text(encoding="utf8"))
    name, language = spacy_model_name(config), data.get("language")
    if name is None or language is None:
        return None
    import spacy

    path = Path(name)
    if not path.exists() and spacy.util.is_package(name):
        path = spacy.util.get_package_path(name)
    meta = path / "meta.json"
    if not meta.is_file():  # not installed: SpacyNLP says so, with Rasa's own fix
        return None
    model_lang = json.loads(meta.read_text(encoding="utf8")).get("lang")
    if model_lang in (None, language):
        return None
    return (
        f"{config}: the bot's language is {language!r}, but its spaCy model {name!r} is for "
        f"{model_lang!r}.\n  Fix: set `language: {model_lang}` in the config, or serve the student "
        f"built with --vars.lang {language}."
    )


def csv_to_nlu(path: Path, directory: Path) -> Path:
    """Write a text,label CSV as Rasa NLU YAML (one intent per label), for `train_nlu`."""
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message.build(text=text, intent=label) for text, label in read_messages(path)]
    output = directory / (path.stem + ".yml")
    output.write_text(TrainingData(messages).nlu_as_yaml(), encoding="utf8")
    return output


def with_model(config: Path, model: str, directory: Path) -> Path:
    """Copy a Rasa config, pointing SpacyNLP at another spaCy model (package name or path)."""
    yaml = YAML()
    data = yaml.load(config.read_text(encoding="utf8"))
    for component in data.get("pipeline") or []:
        if component.get("name") == "SpacyNLP":
            component["model"] = model
    path = directory / "config.yml"
    with path.open("w", encoding="utf8") as f:
        yaml.dump(data, f)
    return path


def read_messages(path: Path) -> List[Tuple[str, Optional[str]]]:
    """Read (text, intent) pairs from Rasa NLU YAML or a text,label CSV, or texts from a plain
    file (one a line)."""
    if path.suffix == ".csv":
        import csv

        with path.open(encoding="utf8", newline="") as f:
            return [(row["text"], row["label"]) for row in csv.DictReader(f)]
    if path.suffix in (".yml", ".yaml"):
        from rasa.shared.nlu.training_data.loading import load_data

        examples = load_data(str(path)).intent_examples
        return [(example.get("text"), example.get("intent")) for example in examples]
    lines = path.read_text(encoding="utf8").splitlines()
    return [(line.strip(), None) for line in lines if line.strip()]


async def train_and_parse(
    config: Path, nlu: Path, messages: List[Tuple[str, Optional[str]]], output: Path, benchmark: int
) -> Dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    start = time.perf_counter()
    model_path = await train_nlu(str(config), str(nlu), str(output), fixed_model_name="nlu")
    if model_path is None:
        raise SystemExit(f"Rasa trained no model from {config} and {nlu} (see the log above)")
    trained = time.perf_counter()
    agent = Agent.load(model_path)
    loaded = time.perf_counter()
    results = []
    for text, expected in messages:
        parsed = await agent.parse_message(text)
        results.append({"text": text, "expected": expected, **parsed})
    summary: Dict[str, Any] = {
        "model_path": str(model_path),
        "train_s": trained - start,
        "load_s": loaded - trained,
        "results": results,
    }
    if benchmark:
        name = spacy_model_name(config)
        nlp = None
        if name is not None:
            import spacy

            # Loaded as SpacyNLP loads it, so both timings run the same pipeline.
            nlp = spacy.load(name, disable=["parser"])
        summary["benchmark"] = await measure(agent, nlp, [text for text, _ in messages], benchmark)
    return summary


async def measure(agent: Any, nlp: Any, texts: List[str], n: int) -> Dict[str, Any]:
    """Median latency per message, warm: Rasa's parse_message, and the spaCy model alone (when
    the pipeline has one)."""
    texts = [texts[i % len(texts)] for i in range(n)]
    rasa_times = []
    for text in texts[:20]:  # warm-up
        await agent.parse_message(text)
    for text in texts:
        start = time.perf_counter()
        await agent.parse_message(text)
        rasa_times.append(time.perf_counter() - start)
    spacy_times = []
    if nlp is not None:
        for text in texts[:20]:
            nlp(text)
        for text in texts:
            start = time.perf_counter()
            nlp(text)
            spacy_times.append(time.perf_counter() - start)
    return {
        "messages": n,
        "rasa_parse_message_ms": 1000 * statistics.median(rasa_times),
        "spacy_nlp_ms": 1000 * statistics.median(spacy_times) if spacy_times else None,
    }


def main(
    model: Optional[str] = typer.Option(
        None, help="spaCy model for SpacyNLP (package name or path); default: the one in --config"
    ),
    config: Path = typer.Option(HERE / "config.yml", exists=True, dir_okay=False),
    nlu: Path = typer.Option(ROOT / "assets/intents/nlu.yml", exists=True, help="NLU train data (Rasa YAML or text,label CSV)"),
    messages: Path = typer.Option(
        ROOT / "assets/intents/nlu_test.yml",
        exists=True,
        dir_okay=False,
        help="Messages to parse: Rasa NLU YAML or text,label CSV (with the expected intents), or one text a line",
    ),
    output: Optional[Path] = typer.Option(None, help="Folder for the Rasa model; default: a temp"),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write all results to this file"),
    benchmark: int = typer.Option(0, help="Also time this many warm parses: Rasa vs spaCy alone"),
) -> None:
    """Train the NLU model from config.yml, load it with Agent.load and parse the messages."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa's library default logs every graph node at debug level; LOG_LEVEL=DEBUG brings it back.
    log_level = logging.getLevelName(os.environ.get("LOG_LEVEL", "WARNING"))
    configure_logging_and_warnings(log_level)
    configure_structlog(log_level)
    pairs = read_messages(messages)
    with tempfile.TemporaryDirectory() as tmp:
        if model is not None:
            config = with_model(config, model, Path(tmp))
        mismatch = language_mismatch(config)
        if mismatch:
            raise SystemExit(mismatch)
        if nlu.suffix == ".csv":
            nlu = csv_to_nlu(nlu, Path(tmp))
        summary = asyncio.run(train_and_parse(config, nlu, pairs, output or Path(tmp), benchmark))
    results = summary["results"]
    labelled = [r for r in results if r["expected"] is not None]
    correct = sum(r["intent"]["name"] == r["expected"] for r in labelled)
    for r in results[:: max(1, len(results) // 12)]:
        print(f"{r['intent']['name']:>22} {r['intent']['confidence']:.2f}  {r['text']}")
    if "benchmark" in summary:
        b = summary["benchmark"]
        alone = f", spaCy nlp(text) {b['spacy_nlp_ms']:.2f} ms" if b["spacy_nlp_ms"] is not None else ""
        print(f"Median per message over {b['messages']} warm parses: Rasa parse_message {b['rasa_parse_message_ms']:.2f} ms{alone}")
    summary["accuracy"] = correct / len(labelled) if labelled else None
    if json_path is not None:
        json_path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf8")
    print(f"Parsed {len(results)} messages; {correct}/{len(labelled)} got the expected intent")


if __name__ == "__main__":
    typer.run(main)
