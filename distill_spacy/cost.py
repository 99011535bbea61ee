"""What a model costs: CPU speed (latency and throughput, and whether other processes shared the
CPU), memory, size on disk and in its wheel, parameters, and the machine it was measured on."""
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import spacy
from spacy.language import Language
from wasabi import msg

from .data import PathLike



def folder_size(path: PathLike) -> int:
    """Bytes of all files under a folder."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def count_params(nlp: Language) -> Tuple[int, int]:
    """Trainable weights of the pipeline's models (thinc and PyTorch), and static vector values.

    RETURNS (Tuple[int, int]): (parameters, vector table values).
    """
    params = 0
    seen = set()
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if model is None:
            continue
        for node in model.walk():
            if node.id in seen:
                continue
            seen.add(node.id)
            params += sum(node.get_param(name).size for name in node.param_names if node.has_param(name))
            for shim in node.shims:
                torch_model = getattr(shim, "_model", None)
                if id(shim) not in seen and hasattr(torch_model, "parameters"):
                    seen.add(id(shim))
                    params += sum(p.numel() for p in torch_model.parameters())
    return int(params), int(nlp.vocab.vectors.data.size)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_speed(
    nlp: Language,
    texts: Sequence[str],
    n_single: int = 300,
    warmup: int = 20,
    repeats: int = 3,
    batch_size: int = 64,
) -> Dict:
    """Warm CPU speed: latency of `nlp(text)` per message and `nlp.pipe` throughput, median over repeats.

    Each repeat times the first `n_single` texts one by one, then runs all texts through `nlp.pipe`,
    after `warmup` untimed calls.

    nlp (Language): The pipeline.
    texts (Sequence[str]): Messages.
    RETURNS (Dict): {"latency_ms_p50", "latency_ms_p95", "pipe_docs_per_s", "repeats": [per repeat]}.
    """
    if not texts:
        raise ValueError("No texts to time")
    for text in texts[:warmup]:
        nlp(text)
    monitor = CpuMonitor()
    runs = []
    for _ in range(repeats):
        latencies = []
        for text in texts[:n_single]:
            start = time.perf_counter()
            nlp(text)
            latencies.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
        runs.append(
            {
                "latency_ms_p50": statistics.median(latencies),
                "latency_ms_p95": _percentile(latencies, 0.95),
                "pipe_docs_per_s": len(texts) / (time.perf_counter() - start),
            }
        )
    summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    summary["repeats"] = runs
    summary["contention"] = monitor.stop()
    return summary


# Other processes using more than this share of all cores while a model is timed make its
# figures unreliable (a teacher once measured 488 ms instead of 14 ms per message this way).
CONTENDED_SHARE = 0.2


class CpuMonitor:
    """What else ran on the machine while a model was timed: the share of all cores used by other
    processes (system CPU time minus this process's, over the wall time), and the load average."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.cores = psutil.cpu_count() or 1
        self.system_start = sum(psutil.cpu_times()[:3])  # user, nice, system
        self.own_start = sum(self.process.cpu_times()[:4])  # user, system, children
        self.wall_start = time.perf_counter()

    def stop(self) -> Dict:
        import psutil

        wall = time.perf_counter() - self.wall_start
        system = sum(psutil.cpu_times()[:3]) - self.system_start
        own = sum(self.process.cpu_times()[:4]) - self.own_start
        other_share = max(0.0, (system - own) / (wall * self.cores)) if wall > 0 else 0.0
        return {
            "other_cpu_share": round(other_share, 3),
            "own_cpu_per_wall": round(own / wall, 3) if wall > 0 else None,
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "cores": self.cores,
            "contended": other_share > CONTENDED_SHARE,
        }


RSS_SCRIPT = """
import json, sys, psutil, spacy
process = psutil.Process()
spacy.blank(sys.argv[2])("warm up")
before = process.memory_info().rss
nlp = spacy.load(sys.argv[1])
nlp("warm up")
print(json.dumps({"rss_added_bytes": process.memory_info().rss - before}))
"""


def measure_rss(model: PathLike) -> Optional[int]:
    """Resident memory that loading the pipeline adds to a fresh process with a blank pipeline.

    Runs in a subprocess, so that models measured earlier do not share the cost. The process first
    builds and runs a blank pipeline of the same language, which imports spaCy and the plugins it
    finds installed (spacy-transformers imports PyTorch): the figure is the model's own memory
    (weights, vocab, buffers), comparable between models. None (with a warning) when psutil is
    missing or the process fails.
    """
    try:
        import psutil  # noqa: F401
    except ImportError:
        msg.warn("psutil is not installed: memory added by loading is not measured (pip install psutil)")
        return None
    lang = json.loads((Path(model) / "meta.json").read_text(encoding="utf8")).get("lang", "xx")
    result = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(model), lang], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        msg.warn(f"Could not measure the memory of {model}: {result.stderr.strip()[-500:]}")
        return None
    return int(json.loads(result.stdout.strip().splitlines()[-1])["rss_added_bytes"])


def _weights_digest(files: Dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf8") + b"\0" + files[name])
    return digest.hexdigest()


def find_wheel(wheel_dir: Optional[PathLike], model: PathLike) -> Optional[Path]:
    """The wheel in `wheel_dir` that packs this model's weights, or None.

    A wheel counts when the `model` files of its components are byte-identical to the folder's,
    so a stale wheel from an earlier run is never reported as this model's.
    """
    if not wheel_dir or not Path(wheel_dir).is_dir():
        return None
    model = Path(model)
    local = {p.parent.name: p.read_bytes() for p in model.glob("*/model")}
    if not local:
        return None
    target = _weights_digest(local)
    for wheel in sorted(Path(wheel_dir).glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            packed = {
                Path(name).parent.name: archive.read(name)
                for name in archive.namelist()
                if Path(name).name == "model" and Path(name).parent.name in local
            }
        if packed.keys() == local.keys() and _weights_digest(packed) == target:
            return wheel
    return None


def machine_info() -> Dict:
    """The machine the timings come from: CPU, cores, platform, versions and PyTorch's threads."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    torch = sys.modules.get("torch")
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
    }



def attach_wheels(report: Dict, wheel_dir: Optional[PathLike]) -> int:
    """Fill in the wheel size of each model whose exact weights a wheel in `wheel_dir` packs.

    RETURNS (int): The number of models with a wheel.
    """
    found = 0
    for model in report["models"].values():
        wheel = find_wheel(wheel_dir, model["path"]) if Path(model["path"]).is_dir() else None
        model["size"]["wheel"] = str(wheel) if wheel else None
        model["size"]["wheel_bytes"] = wheel.stat().st_size if wheel else None
        found += wheel is not None
    return found
