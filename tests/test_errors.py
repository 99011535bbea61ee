"""The message catalogue: one code per message, a fix for every error, no entry left unused."""
import re
import string
from pathlib import Path

import pytest

from distill_spacy import errors
from distill_spacy.errors import DataError, Message, data_error

PACKAGE = Path(errors.__file__).parent
CATALOGUE = {name: value for name, value in vars(errors).items() if isinstance(value, Message)}


def test_codes_are_unique_and_match_their_kind():
    codes = [m.code for m in CATALOGUE.values()]
    assert len(codes) == len(set(codes))
    for name, message in CATALOGUE.items():
        assert re.fullmatch(r"[EW]\d{3}", message.code), name
        assert name[0] == message.code[0], f"{name} is {message.code}"


@pytest.mark.parametrize("name", sorted(n for n in CATALOGUE if n.startswith("E_")))
def test_every_error_says_the_fix(name):
    assert CATALOGUE[name].fix.strip(), f"{name} has no fix"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_message_is_used(name):
    sources = [p.read_text(encoding="utf8") for p in PACKAGE.glob("*.py") if p.name != "errors.py"]
    sources += [p.read_text(encoding="utf8") for p in (PACKAGE.parent / "scripts").glob("*.py")]
    assert any(re.search(rf"\b{name}\b", text) for text in sources), f"{name} is never used"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_message_formats_with_its_own_fields(name):
    message = CATALOGUE[name]
    fields = {f for part in (message.problem, message.fix)
              for _, f, _, _ in string.Formatter().parse(part) if f}
    text = message.format(**{f: 1 for f in fields})  # a number fits every format spec used
    assert text.startswith(f"[{message.code}] ")
    assert ("\n  Fix: " in text) == bool(message.fix)


def test_data_error_carries_the_code():
    error = data_error("f.csv", 3, errors.E_EMPTY_TEXT, column="text")
    assert isinstance(error, DataError) and error.code == "E005"
    assert str(error) == "[E005] f.csv, line 3: the text in column 'text' is empty\n  Fix: write the text into the row, or delete the row"
