"""Run the workflow on banking77, SNIPS and the shop intents (and Rasa's own classifiers) into one table."""
import sys
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from distill_spacy import errors
from distill_spacy.benchmark import default_sets, prepare_workdir, run_rasa, run_workflow, write_benchmark
from distill_spacy.report import update_readme


def main(
    data_dir: Path = typer.Option(Path("../shared/data"), "--data-dir", help="Folder with banking77/ and snips/ (text,label CSVs)"),
    sets: str = typer.Option("banking77,snips,intents", "--sets", help="Comma-separated: banking77, snips, intents, reviews"),
    workdir: Path = typer.Option(Path("benchmarks"), "--workdir", help="One run folder per set"),
    output: Path = typer.Option(Path("metrics/benchmark.json"), "--output", help="benchmark.json (BENCHMARK.md beside it)"),
    rasa_python: Optional[Path] = typer.Option(None, "--rasa-python", help="Python of the Rasa venv; without it the Rasa columns are skipped"),
    readme: Optional[Path] = typer.Option(None, "--readme", help="README whose benchmark block to replace"),
    force: bool = typer.Option(False, "--force", help="Rerun every step of each set's workflow"),
):
    """Run `spacy project run all` on each set in its own folder and write one table."""
    known = default_sets(data_dir)
    names = [s.strip() for s in sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        msg.fail(errors.E_BENCHMARK_SETS.format(unknown=unknown, known=sorted(known)), exits=1)
    if rasa_python is not None and str(rasa_python) in ("", "."):
        rasa_python = None
    if rasa_python is not None and not rasa_python.exists():
        msg.fail(errors.E_RASA_PYTHON.format(path=rasa_python), exits=1)
    rows = []
    for name in names:
        bench = known[name]
        try:
            folder = prepare_workdir(bench, workdir / name)
            row = run_workflow(bench, folder, force=force)
            if rasa_python is not None and bench.rasa:
                row["rasa"] = run_rasa(row, folder, rasa_python)
        except (FileNotFoundError, RuntimeError) as e:
            msg.fail(f"{name}: {e}", exits=1)
        rows.append(row)
        msg.good(f"{name}: student {row['models']['student']['accuracy']:.3f}, teacher "
                 f"{row['models']['teacher']['accuracy']:.3f}, baseline {row['models']['baseline']['accuracy']:.3f}")
    table = write_benchmark(rows, output, "python " + " ".join(sys.argv))
    print(table)
    msg.good(f"Wrote {output} and {output.with_name('BENCHMARK.md')}")
    if readme is not None:
        changed = update_readme(readme, table, block="benchmark")
        msg.good(f"{readme}: benchmark table {'updated' if changed else 'already up to date'}")


if __name__ == "__main__":
    typer.run(main)
