"""Train the student with `spacy train`, its hash table sized for the number of labels, and save
the stock-spaCy pipeline that ships (model-stock)."""
import json
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides
from spacy.cli.train import train
from thinc.api import Config
from wasabi import msg

from distill_spacy.search_space import drop_pinned, pinned_keys
from distill_spacy.student import WEIGHTS_BUDGET, convert_to_stock, length_overrides

app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., exists=True, dir_okay=False, help="Student config (configs/student_<arch>.cfg)"),
    output_dir: Path = typer.Argument(..., help="Training output: model-best, model-last and model-stock go here"),
    labels: Path = typer.Option(..., "--labels", exists=True, dir_okay=False, help="labels.json of the corpus (from preprocess)"),
    weights_budget: int = typer.Option(WEIGHTS_BUDGET, "--weights-budget", help="Most bag-of-words weights (hash rows x labels)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
):
    """Train the student; extra `--section.key value` options are spaCy config overrides.

    An explicit `--components.textcat.model.length` wins over the size rule. A config written by
    the search (configs/student_search.cfg) pins its settings (`[search] pinned`): overrides of
    those are not used, and the size rule does not apply to them.
    """
    overrides = parse_config_overrides(ctx.args)
    n_labels = len(json.loads(labels.read_text(encoding="utf8")))
    cfg = Config().from_disk(config, interpolate=False)
    for key, value in drop_pinned(overrides, cfg).items():
        msg.info(f"{key}: the search's setting in {config}, not {value!r} from the command line")
    sized = length_overrides(cfg, n_labels, weights_budget)
    for key, length in sized.items():
        if key not in overrides and key not in pinned_keys(cfg):
            overrides[key] = length
            msg.info(f"{key} = {length} for {n_labels} labels (at most {weights_budget:,} weights)")
    train(config, output_dir, use_gpu=gpu_id, overrides=overrides)
    convert_to_stock(output_dir / "model-best", output_dir / "model-stock")
    msg.good(f"Wrote {output_dir / 'model-stock'}: the student as a stock spaCy textcat (loads without distill_spacy)")


if __name__ == "__main__":
    app()
