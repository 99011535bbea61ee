"""Shared fixtures: tiny random BERT and RoBERTa models written to disk, built inside the test run."""
from pathlib import Path
from typing import Sequence

import pytest

TINY_WORDS = (
    "the a it is was this that and but not very really great good love loved excellent perfect "
    "bad awful terrible broke broken hate hated poor waste money product works worked fine "
    "battery sound screen price quality would buy again never return returned , . ! ?"
).split()


def build_tiny_bert(path: Path, words: Sequence[str] = TINY_WORDS, lowercase: bool = True) -> Path:
    """Write a 2-layer, 32-wide random BERT and its WordPiece vocab to `path`.

    words (Sequence[str]): Whole words of the vocab; their letters (and a-z) are wordpieces too.
    lowercase (bool): An uncased tokenizer (lower-cases and strips accents) or a cased one.
    """
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    letters += [c for c in dict.fromkeys("".join(words)) if c.isalpha() and c not in letters]
    vocab = specials + list(words) + letters + [f"##{c}" for c in letters]
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf8")
    config = BertConfig(
        vocab_size=len(dict.fromkeys(vocab)),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(path)
    BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=lowercase).save_pretrained(path)
    return path


def build_tiny_roberta(path: Path, texts: Sequence[str]) -> Path:
    """Write a 2-layer, 32-wide random RoBERTa and a byte-level BPE tokenizer trained on `texts`
    (RoBERTa-style: "<s>", "</s>" and the mask token "<mask>", as CamemBERT and XLM-R have)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts, vocab_size=400, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    )
    bpe.save_model(str(path))
    tokenizer = RobertaTokenizerFast(
        vocab_file=str(path / "vocab.json"), merges_file=str(path / "merges.txt"), model_max_length=128
    )
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        # RoBERTa's positions start after the padding index: 128 tokens need 130 positions.
        max_position_embeddings=130,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    RobertaModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def tiny_teacher(tiny_bert, tmp_path_factory) -> Path:
    """configs/teacher.cfg with the tiny BERT, initialised (not trained) for two labels, on disk."""
    from spacy.training import Example
    from spacy.util import load_config, load_model_from_config

    config = load_config(Path(__file__).parent.parent / "configs" / "teacher.cfg", interpolate=True)
    config["components"]["transformer"]["model"]["name"] = str(tiny_bert)
    nlp = load_model_from_config(config, auto_fill=True)
    examples = [
        Example.from_dict(nlp.make_doc(text), {"cats": {"positive": pos, "negative": 1.0 - pos}})
        for text, pos in [("great product", 1.0), ("awful product", 0.0)]
    ]
    nlp.initialize(lambda: examples)
    path = tmp_path_factory.mktemp("tiny_teacher")
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def opinionated_teacher(tiny_teacher, tmp_path_factory) -> Path:
    """The tiny teacher with a random (seeded) textcat head, so that its probabilities differ from
    text to text (the initialised head gives 0.5 everywhere)."""
    import numpy
    import spacy

    nlp = spacy.load(tiny_teacher)
    rng = numpy.random.default_rng(0)
    for node in nlp.get_pipe("textcat").model.walk():
        for name in ("W", "b"):
            if node.has_param(name):
                node.set_param(name, rng.normal(0, 3.0, node.get_param(name).shape).astype("float32"))
    path = tmp_path_factory.mktemp("opinionated_teacher")
    nlp.to_disk(path)
    return path
