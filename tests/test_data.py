import json

import pytest
from spacy.tokens import DocBin
import spacy

from distill_spacy.data import (
    check_splits,
    preprocess,
    read_records,
    strip_entity_markup,
)
from distill_spacy.errors import DataError

TRAIN_CSV = """text,label
"Loved it, works great.",positive
"Broke after a week, awful.",negative
"Not bad at all, would buy again.",positive
"A waste of money. It broke
on the second day.",negative
Fine sound for the price,positive
"""
DEV_CSV = """text,label
Great battery,positive
Terrible screen,negative
"""
TEST_CSV = """text,label
Great battery,positive
Never buying again,negative
"""
NLU_YAML = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello there

    - good morning
- intent: track_order
  examples: |
    - where is order [58213](order_id)?
    - has my [kettle]{"entity": "product"} shipped
    - ship it to the [UK]{"entity": "country", "value": "united_kingdom"} please
- synonym: united_kingdom
  examples: |
    - UK
"""


def write(path, text, encoding="utf8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


@pytest.fixture
def splits(tmp_path):
    return {
        "train": write(tmp_path / "train.csv", TRAIN_CSV),
        "dev": write(tmp_path / "dev.csv", DEV_CSV),
        "test": write(tmp_path / "test.csv", TEST_CSV),
    }


def assert_error(exc, path, line, *words):
    err = exc.value
    assert err.path == str(path)
    assert err.line == line
    text = str(err)
    assert str(path) in text and "Fix:" in text
    for word in words:
        assert word in text


def test_read_csv_texts_labels_and_lines(splits):
    records = read_records(splits["train"])
    assert [r.label for r in records] == ["positive", "negative", "positive", "negative", "positive"]
    assert records[3].text == "A waste of money. It broke\non the second day."
    # The multi-line row starts on line 5; the next row on line 7.
    assert [r.line for r in records] == [2, 3, 4, 5, 7]


def test_read_jsonl(tmp_path):
    lines = [{"sentence": "good", "stars": 5}, {"sentence": "bad", "stars": 1}]
    path = write(tmp_path / "x.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    records = read_records(path, text_col="sentence", label_col="stars")
    assert [(r.text, r.label, r.line) for r in records] == [("good", "5", 1), ("bad", "1", 2)]


def test_read_rasa_yaml_strips_entities_and_counts_lines(tmp_path, capsys):
    path = write(tmp_path / "nlu.yml", NLU_YAML)
    records = read_records(path)
    assert [r.label for r in records] == ["greet"] * 3 + ["track_order"] * 3
    assert [r.text for r in records][3:] == [
        "where is order 58213?",
        "has my kettle shipped",
        "ship it to the UK please",
    ]
    assert [r.line for r in records] == [5, 6, 8, 11, 12, 13]
    assert "1 synonym" in capsys.readouterr().out


@pytest.mark.parametrize(
    "marked,plain",
    [
        ("book [Paris](city)", "book Paris"),
        ("[two](number:2) pizzas", "two pizzas"),
        ('to [NYC]{"entity": "city", "value": "new york"}', "to NYC"),
        ('[red][{"entity": "color"}, {"entity": "x"}] shoes', "red shoes"),
        ("no markup [here]", "no markup [here]"),
    ],
)
def test_strip_entity_markup(marked, plain):
    assert strip_entity_markup(marked) == plain


def test_missing_column(tmp_path):
    path = write(tmp_path / "t.csv", "sentence,label\nhello,a\n")
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 1, "'text'", "'sentence'", "--text-col")


def test_missing_label_field_jsonl(tmp_path):
    path = write(tmp_path / "t.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"}\n')
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 2, "'label'", "--label-col")


@pytest.mark.parametrize("row", ['"   ",positive', ",positive"])
def test_empty_text_csv(tmp_path, row):
    path = write(tmp_path / "t.csv", f"text,label\ngood,positive\n{row}\n")
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 3, "empty")


@pytest.mark.parametrize("value", ["null", "42", '["a"]'])
def test_non_string_text_jsonl(tmp_path, value):
    path = write(tmp_path / "t.jsonl", '{"text": "ok", "label": "a"}\n{"text": %s, "label": "a"}\n' % value)
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 2, "not a text string")


def test_non_utf8(tmp_path):
    path = write(tmp_path / "t.csv", "text,label\ngood,positive\ncaf\xe9 bad,negative\n".encode("latin1"))
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 3, "UTF-8", "iconv")


def test_bad_json_line(tmp_path):
    path = write(tmp_path / "t.jsonl", '{"text": "ok", "label": "a"}\n{"text": "no end\n')
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 2, "not valid JSON")


def test_rasa_example_without_dash(tmp_path):
    path = write(tmp_path / "nlu.yml", "nlu:\n- intent: greet\n  examples: |\n    - hi\n    hello\n")
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, 5, "'hello'")


def test_unseen_label_in_test(splits, tmp_path):
    splits["test"] = write(tmp_path / "test.csv", "text,label\nmeh,positive\nso so,neutral\n")
    with pytest.raises(DataError) as exc:
        check_splits({name: read_records(path) for name, path in splits.items()})
    assert_error(exc, splits["test"], 3, "'neutral'", "training data")


def test_single_class(tmp_path):
    path = write(tmp_path / "train.csv", "text,label\na,x\nb,x\n")
    with pytest.raises(DataError) as exc:
        check_splits({"train": read_records(path)})
    assert_error(exc, path, None, "single class")


def test_overlap_and_duplicates_are_counted(splits, capsys):
    summary = check_splits({name: read_records(path) for name, path in splits.items()})
    assert summary.overlaps == {"train-dev": 0, "train-test": 0, "dev-test": 1}
    assert summary.duplicates == {"train": 0, "dev": 0, "test": 0}
    assert "1 text(s) of test also occur in dev" in capsys.readouterr().out


def test_preprocess_writes_exclusive_cats(splits, tmp_path):
    out = tmp_path / "corpus"
    summary = preprocess(splits, out)
    assert summary.labels == ["positive", "negative"]
    assert summary.counts == {"train": 5, "dev": 2, "test": 2}
    assert json.loads((out / "labels.json").read_text()) == ["positive", "negative"]
    docs = list(DocBin().from_disk(out / "train.spacy").get_docs(spacy.blank("en").vocab))
    assert len(docs) == 5
    assert docs[1].cats == {"positive": 0.0, "negative": 1.0}
    assert all(sum(doc.cats.values()) == 1.0 for doc in docs)


def test_preprocess_rasa_yaml(tmp_path):
    path = write(tmp_path / "nlu.yml", NLU_YAML)
    summary = preprocess({"train": path, "dev": path}, tmp_path / "corpus")
    assert summary.labels == ["greet", "track_order"]


def test_nothing_written_on_error(splits, tmp_path):
    out = tmp_path / "corpus"
    preprocess(splits, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    splits["dev"] = write(tmp_path / "dev.csv", "text,label\nok,positive\nhm,unknown\n")
    with pytest.raises(DataError):
        preprocess(splits, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with pytest.raises(DataError):
        preprocess(splits, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_unknown_format(tmp_path):
    path = write(tmp_path / "data.txt", "hello")
    with pytest.raises(DataError) as exc:
        read_records(path)
    assert_error(exc, path, None, ".txt")


def _splits(tmp_path):
    paths = {}
    for name, text in (("train", TRAIN_CSV), ("dev", DEV_CSV), ("test", TEST_CSV)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text, encoding="utf8")
    return paths


def test_preprocess_commits_its_outputs_together(tmp_path, monkeypatch):
    """A failure while writing the last output leaves every earlier output as it was."""
    import os

    from distill_spacy import data

    out = tmp_path / "corpus"
    preprocess(_splits(tmp_path), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    paths = _splits(tmp_path)
    paths["train"].write_text(TRAIN_CSV + "Another one,positive\n", encoding="utf8")
    real_fdopen, calls = os.fdopen, []

    def failing_fdopen(fd, *args, **kwargs):
        calls.append(fd)
        if len(calls) == 4:  # labels.json, the last of the four files
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(data.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError, match="No space left"):
        preprocess(paths, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no new DocBin, no temp file


def test_unwritable_output_is_a_data_error(tmp_path, monkeypatch):
    from distill_spacy import data

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.tempfile, "mkstemp", denied)
    with pytest.raises(DataError, match="cannot write here \\(Permission denied\\)\n  Fix: choose an output folder"):
        preprocess(_splits(tmp_path), tmp_path / "corpus")
    assert not (tmp_path / "corpus" / "train.spacy").exists()


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nothing.csv: the file does not exist\n  Fix: check the path"):
        read_records(tmp_path / "nothing.csv")


def test_very_long_text_is_reported(tmp_path, capsys):
    paths = _splits(tmp_path)
    paths["train"].write_text(TRAIN_CSV + "word " * 20_001 + ",positive\n", encoding="utf8")
    preprocess(paths, tmp_path / "corpus")
    out = " ".join(capsys.readouterr().out.split())  # wasabi wraps long lines
    assert "1 text(s) are longer than 10,000 characters (the longest, 100,004 characters" in out
    assert "train.csv, line 8)" in out
