"""What a model costs: parameters, the wheel that holds its weights, and contention while timing."""
import time
import zipfile

import spacy

from distill_spacy.cost import count_params, find_wheel

from test_evaluate import train_textcat  # tests/ is on sys.path (pytest rootdir)


def test_count_params_by_hand():
    nlp = train_textcat(1, bow_length=1024)
    # a sparse linear layer: weights 2 labels x 1024 hash rows, plus 2 biases
    assert count_params(nlp) == (2 * 1024 + 2, 0)


def test_count_params_counts_torch_weights(tiny_teacher):
    import torch  # noqa: F401

    nlp = spacy.load(tiny_teacher)
    torch_params = sum(
        p.numel()
        for node in nlp.get_pipe("transformer").model.walk()
        for shim in node.shims
        for p in shim._model.parameters()
    )
    params, _ = count_params(nlp)
    assert torch_params > 0 and params > torch_params


def test_find_wheel_matches_weights_only(tmp_path):
    nlp = train_textcat(2)
    model = tmp_path / "model"
    nlp.to_disk(model)
    wheels = tmp_path / "dist"
    wheels.mkdir()

    def write_wheel(name: str, weights: bytes):
        with zipfile.ZipFile(wheels / name, "w") as archive:
            archive.writestr("en_x/en_x-0.1.0/textcat/model", weights)
            archive.writestr("en_x/en_x-0.1.0/meta.json", "{}")

    write_wheel("en_x-0.0.9-py3-none-any.whl", b"stale weights")
    assert find_wheel(wheels, model) is None
    write_wheel("en_x-0.1.0-py3-none-any.whl", (model / "textcat" / "model").read_bytes())
    assert find_wheel(wheels, model) == wheels / "en_x-0.1.0-py3-none-any.whl"
    assert find_wheel(tmp_path / "missing", model) is None
    assert find_wheel(None, model) is None


def test_cpu_monitor_sees_another_busy_process():
    import subprocess
    import sys

    from distill_spacy.cost import CpuMonitor

    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        monitor = CpuMonitor()
        time.sleep(1.0)
        result = monitor.stop()
    finally:
        for p in busy:
            p.kill()
    assert result["other_cpu_share"] > 0.3 and result["contended"]
    assert set(result) == {"other_cpu_share", "own_cpu_per_wall", "load_avg_1m", "cores", "contended"}
