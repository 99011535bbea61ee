import pytest

from distill_spacy.evaluate import classification_metrics

GOLD = ["pos", "pos", "pos", "neg", "neg", "neu"]
PRED = ["pos", "pos", "neg", "neg", "pos", "pos"]


def test_classification_metrics_by_hand():
    m = classification_metrics(GOLD, PRED, ["pos", "neg", "neu"])
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(3 / 6)
    # pos: tp 2, fp 2, fn 1 -> p 0.5, r 2/3, f1 4/7; neg: tp 1, fp 1, fn 1 -> 0.5; neu: 0
    assert m["per_class"]["pos"] == pytest.approx({"p": 0.5, "r": 2 / 3, "f1": 4 / 7, "support": 3})
    assert m["per_class"]["neg"] == pytest.approx({"p": 0.5, "r": 0.5, "f1": 0.5, "support": 2})
    assert m["per_class"]["neu"] == pytest.approx({"p": 0.0, "r": 0.0, "f1": 0.0, "support": 1})
    assert m["macro_f1"] == pytest.approx((4 / 7 + 0.5 + 0) / 3)


def test_classification_metrics_length_mismatch():
    with pytest.raises(ValueError, match="5 gold labels but 6 predictions"):
        classification_metrics(GOLD[:5], PRED, ["pos", "neg", "neu"])
