"""Search benchmark: on each set, the default student against the one `spacy project run search` chooses."""
import datetime
import json
import sys
from pathlib import Path

import typer
from wasabi import msg

from distill_spacy.data import write_atomic
from distill_spacy.search_benchmark import prepare_search_workdir, run_set, search_benchmark_table, search_sets


def main(
    data_dir: Path = typer.Option(Path("../shared/data"), "--data-dir", help="Folder with banking77/ and snips/"),
    sets: str = typer.Option("reviews,banking77,sentences", "--sets",
                             help="Comma-separated: reviews, banking77, snips, intents, sentences"),
    workdir: Path = typer.Option(Path("benchmarks"), "--workdir", help="One run folder per set"),
    output: Path = typer.Option(Path("metrics/search_benchmark.json"), "--output", dir_okay=False),
    trials: int = typer.Option(30, "--trials", min=1, help="search_trials"),
    timeout: int = typer.Option(1800, "--timeout", min=0, help="search_timeout (seconds per set)"),
):
    """Run `all`, `search` and `all --vars.student_arch search` on each set; write one table."""
    known = search_sets(data_dir)
    names = [s.strip() for s in sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        msg.fail(f"--sets: unknown set(s) {unknown}", f"Fix: choose from {sorted(known)}", exits=1)
    rows = []
    for name in names:
        try:
            folder = prepare_search_workdir(known[name], workdir / name)
            rows.append(run_set(known[name], folder, {"search_trials": str(trials), "search_timeout": str(timeout)}))
        except (FileNotFoundError, RuntimeError) as e:
            msg.fail(f"{name}: {e}", exits=1)
        msg.good(f"{name}: default {rows[-1]['default']['accuracy']:.3f}, chosen {rows[-1]['chosen']['accuracy']:.3f}")
    table = search_benchmark_table(rows)
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    command = "python " + " ".join(sys.argv)
    write_atomic(output, json.dumps({"created": created, "command": command, "sets": rows}, indent=2) + "\n")
    print(table)
    msg.good(f"Wrote {output} (each set's front: benchmarks/<set>/metrics/REPORT.md)")


if __name__ == "__main__":
    typer.run(main)
