"""Benchmark labelling throughput: the in-process engine against Ray Data on N texts, each engine in
its own process from a cold start and with a fresh cache, with the peak memory of the driver."""
import json
import multiprocessing
import os
import platform
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import typer
from wasabi import msg

from distill_spacy.data import read_transfer_texts
from distill_spacy.formatting import _table as markdown_table


def make_texts(sources: List[str], n: int, seed: int = 0) -> List[str]:
    """n distinct texts: the sources first, then variants of them (one word dropped and one
    doubled), so that lengths stay those of the real texts and no text is a cache hit."""
    rng = random.Random(seed)
    texts = dict.fromkeys(sources[:n])
    tries = 0
    while len(texts) < n and tries < 20 * n:
        tries += 1
        words = rng.choice(sources).split()
        if len(words) >= 3:
            words.pop(rng.randrange(len(words)))
            i = rng.randrange(len(words))
            words.insert(i, words[i])
        texts.setdefault(" ".join(words), None)
    if len(texts) < n:
        raise ValueError(f"could only make {len(texts)} distinct texts from {len(sources)} sources")
    return list(texts)


def run_engine(engine: str, teacher: str, texts: List[str], batch_size: int, ray: Dict, queue) -> None:
    """In a child process: label the texts from a cold start with a fresh cache; put the figures."""
    from distill_spacy.label import LabelCache, fill_cache, teacher_labels
    from distill_spacy.ray_engine import RayOptions

    class TimedCache(LabelCache):
        """Records when results arrive, for the steady-state rate (start-up excluded)."""

        def put(self, items):
            items = list(items)
            super().put(items)
            self.arrivals.append((time.perf_counter(), len(items)))

    labels, _ = teacher_labels(teacher)
    with tempfile.TemporaryDirectory() as tmp:
        cache = TimedCache(Path(tmp) / "cache.sqlite", "benchmark", labels)
        cache.arrivals = []
        start = time.perf_counter()
        fill_cache(teacher, texts, cache, batch_size, engine=engine, ray_options=RayOptions(**ray), progress=False)
        seconds = time.perf_counter() - start
        assert len(cache) == len(texts), f"{engine}: {len(cache)} of {len(texts)} texts labelled"
        cache.close()
    (first, n_first), (last, _) = cache.arrivals[0], cache.arrivals[-1]
    steady = (len(texts) - n_first) / (last - first) if last > first else None
    queue.put({
        "engine": engine,
        "texts": len(texts),
        "seconds": seconds,
        "texts_per_s": len(texts) / seconds,
        "startup_s": first - start,
        "steady_texts_per_s": steady,
        "driver_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    })


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    transfer: Path = typer.Argument(..., exists=True, dir_okay=False, help="Transfer texts (.jsonl): the source of the texts"),
    output: Path = typer.Option(Path("metrics/benchmarks/label.json"), "--output", "-o", help="Figures (and a .md table beside)"),
    n_texts: int = typer.Option(50_000, "--n-texts", "-n", help="Distinct texts to label (sources, then variants of them)"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass, for both engines"),
    engines: str = typer.Option("local,ray", "--engines", help="Engines to run, in order"),
    ray_address: str = typer.Option("", "--ray-address", help="Ray cluster to join; '' starts a local Ray"),
    ray_concurrency: int = typer.Option(2, "--ray-concurrency", help="Teacher replicas (Ray actors)"),
    ray_num_cpus: float = typer.Option(1.0, "--ray-num-cpus", help="CPUs per Ray actor"),
    seed: int = typer.Option(0, "--seed"),
):
    """Benchmark labelling throughput: in-process against Ray Data, with the driver's peak memory."""
    texts = make_texts([r["text"] for r in read_transfer_texts(transfer)], n_texts, seed)
    ray = {"address": ray_address, "concurrency": ray_concurrency, "num_cpus": ray_num_cpus}
    context = multiprocessing.get_context("spawn")  # a fresh process per engine: cold start, own peak RSS
    results = {}
    for engine in engines.split(","):
        queue = context.Queue()
        process = context.Process(target=run_engine, args=(engine, str(teacher), texts, batch_size, ray, queue))
        process.start()
        result = queue.get()
        process.join()
        results[engine] = result
        msg.info(f"{engine}: {result['texts_per_s']:.1f} texts/s ({result['seconds']:.0f} s), "
                 f"driver peak RSS {result['driver_peak_rss_mb']:.0f} MB")
    figures = {"texts": len(texts), "batch_size": batch_size, "engines": results, "ray": ray}
    if "local" in results and "ray" in results:
        figures["ray_vs_local"] = results["ray"]["texts_per_s"] / results["local"]["texts_per_s"]
        steady = results["ray"]["steady_texts_per_s"] or results["ray"]["texts_per_s"]
        per_worker_hour = steady / ray_concurrency * 3600
        figures["scale_out"] = {
            "texts_per_hour_per_worker": per_worker_hour,
            "hours_per_million_texts": {str(w): 1e6 / (per_worker_hour * w) for w in (1, 2, 8, 32)},
            "assumes": "each worker as fast as one actor here (ray_num_cpus CPUs), the driver not the bottleneck",
        }
    figures["machine"] = {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
                          "python": platform.python_version()}
    figures["command"] = (f"python scripts/benchmark_label.py {teacher} {transfer} -n {n_texts} -b {batch_size} "
                          f"--engines {engines} --ray-concurrency {ray_concurrency} --ray-num-cpus {ray_num_cpus}")
    rows = [[e, f"{r['texts_per_s']:.1f}", f"{r['steady_texts_per_s'] or 0:.1f}", f"{r['startup_s']:.1f}",
             f"{r['driver_peak_rss_mb']:.0f}"] for e, r in results.items()]
    md = markdown_table(["engine", "texts/s (cold start)", "texts/s (steady)", "start-up s", "driver peak RSS MB"], rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf8")
    output.with_suffix(".md").write_text(md + "\n", encoding="utf8")
    print(md)
    ratio = f"; Ray at {figures['ray_vs_local']:.0%} of in-process" if "ray_vs_local" in figures else ""
    msg.good(f"Labelled {len(texts)} texts per engine{ratio}; figures in {output}")


if __name__ == "__main__":
    typer.run(main)
