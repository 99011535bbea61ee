import json
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from distill_spacy.errors import UserError
from distill_spacy.label import teacher_logprobs
from distill_spacy.precision import cache_key, load_teacher, resolve_precision, torch_modules

ROOT = Path(__file__).parent.parent
TEXTS = ["great sound", "awful battery", "would buy again", "broke fast", "love it", "poor quality",
         "the price was not very good but it works", "never buy this product again"]


def test_int8_teacher_has_quantized_linear_layers(opinionated_teacher):
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

    nlp = load_teacher(opinionated_teacher, "int8")
    modules = [m for module in torch_modules(nlp) for m in module.modules()]
    # 2 layers x (query, key, value, attention output, intermediate, output) + the pooler
    assert sum(isinstance(m, DynamicQuantizedLinear) for m in modules) == 13
    assert not any(type(m) is torch.nn.Linear for m in modules)


def test_int8_labels_are_distributions_close_to_fp32(opinionated_teacher):
    fp32 = load_teacher(opinionated_teacher, "fp32")
    int8 = load_teacher(opinionated_teacher, "int8")
    labels = list(fp32.get_pipe("textcat").labels)
    p32 = numpy.exp(teacher_logprobs(fp32, TEXTS, labels))
    p8 = numpy.exp(teacher_logprobs(int8, TEXTS, labels))
    assert p8.shape == p32.shape == (len(TEXTS), len(labels))
    assert p8.sum(axis=1) == pytest.approx(numpy.ones(len(TEXTS)), abs=1e-5)
    assert not numpy.array_equal(p8, p32)  # really another model
    assert p8 == pytest.approx(p32, abs=0.05)
    assert (p8.argmax(axis=1) == p32.argmax(axis=1)).mean() >= 0.75


def test_int8_on_a_gpu_falls_back_to_fp32(capsys):
    assert resolve_precision("int8", 0) == "fp32"
    assert "int8 is CPU-only" in capsys.readouterr().out
    assert resolve_precision("int8", -1) == "int8"
    assert resolve_precision("fp32", 0) == "fp32"


def test_unknown_precision_names_the_choices():
    with pytest.raises(UserError, match="(?s)unknown teacher precision 'fp16'.*Fix: use one of: fp32, int8"):
        resolve_precision("fp16")


def test_int8_labels_are_cached_apart():
    assert cache_key("abc", "fp32") == "abc"
    assert cache_key("abc", "int8") != "abc"


def run_label(teacher, tmp_path, *args):
    from distill_spacy.data import preprocess

    csv = tmp_path / "train.csv"
    csv.write_text("text,label\ngreat sound,positive\nbroke fast,negative\n", encoding="utf8")
    preprocess({"train": csv, "dev": csv}, tmp_path / "corpus")
    transfer = tmp_path / "transfer.jsonl"
    transfer.write_text("".join(json.dumps({"text": t, "source": "unlabelled"}) + "\n" for t in TEXTS), encoding="utf8")
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "label.py"), str(teacher), str(transfer),
         str(tmp_path / "corpus" / "train.spacy"), str(tmp_path / "transfer.spacy"),
         "--cache", str(tmp_path / "cache.sqlite"), *args],
        capture_output=True, text=True,
    )


def test_label_script_takes_the_precision(opinionated_teacher, tmp_path):
    from distill_spacy.label import LabelCache, teacher_fingerprint

    result = run_label(opinionated_teacher, tmp_path, "--precision", "int8")
    assert result.returncode == 0, result.stderr
    assert "teacher in int8" in " ".join(result.stdout.split())  # wasabi wraps lines
    summary = json.loads((tmp_path / "transfer.labels.json").read_text(encoding="utf8"))
    assert summary["precision"] == "int8" and summary["texts"] == len(TEXTS)
    fingerprint = teacher_fingerprint(opinionated_teacher)
    assert len(LabelCache(tmp_path / "cache.sqlite", cache_key(fingerprint, "int8"), ["positive", "negative"])) == len(TEXTS)
    assert len(LabelCache(tmp_path / "cache.sqlite", fingerprint, ["positive", "negative"])) == 0


def test_label_script_rejects_an_unknown_precision(opinionated_teacher, tmp_path):
    result = run_label(opinionated_teacher, tmp_path, "--precision", "int4")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "unknown teacher precision 'int4'" in result.stderr
    assert not (tmp_path / "transfer.spacy").exists()


def test_label_agreement_against_hand_computed_values():
    from distill_spacy.precision import label_agreement

    a = numpy.log([[0.9, 0.1], [0.4, 0.6]])
    b = numpy.log([[0.8, 0.2], [0.6, 0.4]])
    result = label_agreement(a, b)
    assert result["argmax_agreement"] == 0.5
    sure = label_agreement(a, b, confident=0.7)  # only the first text (0.9) is that sure
    assert sure["confident_texts"] == 1 and sure["argmax_agreement_confident"] == 1.0
    kl0 = 0.9 * numpy.log(0.9 / 0.8) + 0.1 * numpy.log(0.1 / 0.2)
    kl1 = 0.4 * numpy.log(0.4 / 0.6) + 0.6 * numpy.log(0.6 / 0.4)
    assert result["mean_kl"] == pytest.approx((kl0 + kl1) / 2)
    assert result["max_kl"] == pytest.approx(max(kl0, kl1))
    assert result["mean_abs_prob_diff"] == pytest.approx(0.15)
    assert label_agreement(a, a)["mean_kl"] == 0.0
