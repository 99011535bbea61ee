"""The Ray engine against the in-process one, on a local Ray with the tiny teacher."""
import builtins
import json
import logging
import random

import numpy
import pytest
import spacy

from distill_spacy import ray_engine
from distill_spacy.errors import UserError
from distill_spacy.label import LabelCache, fill_cache, label_transfer_set, teacher_fingerprint
from distill_spacy.ray_engine import RayOptions, block_size_for
from distill_spacy.shards import docbin_paths, iter_docs

from conftest import TINY_WORDS

LABELS = ["positive", "negative"]


def make_texts(n, seed=0):
    rng = random.Random(seed)
    texts = {" ".join(rng.choices(TINY_WORDS, k=rng.randint(2, 12))) for _ in range(n * 2)}
    return sorted(texts)[:n]


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def test_ray_sends_only_texts_missing_from_the_cache(opinionated_teacher, local_ray, tmp_path, monkeypatch):
    texts = make_texts(200)
    cache = LabelCache(tmp_path / "cache.sqlite", teacher_fingerprint(opinionated_teacher), LABELS)
    marker = numpy.asarray([-7.0, -9.0], dtype="float32")  # not what the teacher would say
    cache.put((t, marker) for t in texts[:120])
    sent, real = [], ray_engine.label_with_ray

    def recording(teacher_dir, texts, *args, **kwargs):
        sent.extend(texts)
        n = real(teacher_dir, texts, *args, **kwargs)
        sent.append(n)
        return n

    monkeypatch.setattr(ray_engine, "label_with_ray", recording)
    from_cache = fill_cache(opinionated_teacher, texts + texts[:10], cache, batch_size=16, engine="ray",
                            progress=False)
    assert from_cache == 120
    assert sorted(sent[:-1]) == sorted(texts[120:]) and sent[-1] == 80  # sent, and received back
    assert len(cache) == 200
    found = cache.get(texts)
    assert all(numpy.array_equal(found[t], marker) for t in texts[:120])  # cached entries untouched
    assert numpy.exp(numpy.stack([found[t] for t in texts[120:]])).sum(axis=1) == pytest.approx(numpy.ones(80), abs=1e-5)
    # Everything cached: Ray is not even asked.
    sent.clear()
    assert fill_cache(opinionated_teacher, texts, cache, engine="ray", progress=False) == 200 and sent == []


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_label_transfer_set_with_ray_writes_the_same_shards(opinionated_teacher, local_ray, tmp_path, precision):
    from distill_spacy.data import preprocess

    csv = tmp_path / "train.csv"
    texts = make_texts(120, seed=1)
    csv.write_text("text,label\n" + f"{texts[0]},positive\n{texts[1]},negative\n", encoding="utf8")
    preprocess({"train": csv, "dev": csv}, tmp_path / "corpus")
    transfer = tmp_path / "transfer.jsonl"
    rows = [{"text": t, "source": "original" if i < 2 else "unlabelled"} for i, t in enumerate(texts)]
    transfer.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    outputs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine / "transfer.spacy"
        summary = label_transfer_set(opinionated_teacher, transfer, tmp_path / "corpus" / "train.spacy", out,
                                     tmp_path / f"{engine}.sqlite", batch_size=16, precision=precision,
                                     engine=engine, shard_size=50, progress=False)
        assert summary.engine == engine and summary.precision == precision and summary.shards == 3
        assert len(docbin_paths(out)) == 3
        outputs[engine] = (summary, list(iter_docs(out, spacy.blank("en").vocab)))
    (local, local_docs), (remote, remote_docs) = outputs["local"], outputs["ray"]
    assert remote.teacher_label_counts == local.teacher_label_counts and remote.with_gold == local.with_gold == 2
    assert [d.text for d in remote_docs] == [d.text for d in local_docs] == texts
    for a, b in zip(local_docs, remote_docs):
        assert [b.cats[l] for l in LABELS] == pytest.approx([a.cats[l] for l in LABELS], abs=1e-5)
        assert b.user_data == a.user_data


def test_blocks_give_every_actor_work():
    options = RayOptions(concurrency=2, block_size=4096)
    assert block_size_for(300, 16, options) == 32  # 10 blocks
    assert block_size_for(1_000_000, 64, options) == 4096
    assert block_size_for(3, 64, options) == 64


def test_missing_ray_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(UserError, match=r'(?s)needs Ray Data.*pip install -c constraints.txt -e "\.\[ray\]"'):
        ray_engine.import_ray()


def test_unknown_engine_names_the_choices(opinionated_teacher, tmp_path):
    cache = LabelCache(tmp_path / "cache.sqlite", "t", LABELS)
    with pytest.raises(UserError, match="(?s)unknown labelling engine 'spark'.*local, ray"):
        fill_cache(opinionated_teacher, ["a text"], cache, engine="spark")
