import json

from thinc.api import Config

from distill_spacy.package import model_card, read_search_section


def test_model_card_names_the_search_s_transfer_set(tmp_path):
    summary = tmp_path / "transfer.summary.json"
    summary.write_text(json.dumps({"settings": {"n_iter": 0}, "texts": 100}), encoding="utf8")
    student = tmp_path / "student"
    student.mkdir()
    config = Config().from_str("[paths]\ntrain = null\n")
    config.to_disk(student / "config.cfg")
    assert read_search_section(student) is None
    card = model_card(tmp_path / "no_report.json", summary, "teacher", "data.csv", read_search_section(student))
    assert card["augmentation"]["texts"] == 100 and "search" not in card and "transfer_set" not in card

    config["search"] = {"study": "student-abc", "trial": 7, "pinned": ["paths.train"], "dev_score": 0.8,
                        "makeup": {"n_iter": 1, "unlabelled": False, "p_mask": 0.1}}
    config.to_disk(student / "config.cfg")
    card = model_card(tmp_path / "no_report.json", summary, "teacher", "data.csv", read_search_section(student))
    assert card["search"]["trial"] == 7 and card["search"]["makeup"]["n_iter"] == 1
    assert "pinned" not in card["search"] and "search.makeup" in card["transfer_set"]
    assert card["augmentation"]["texts"] == 100  # the default's summary stays, marked as replaced
