"""README blocks: replacing the text between a block's markers, and refusing without them."""
import pytest

from distill_spacy.errors import DataError
from distill_spacy.formatting import update_readme

README = """# distill_spacy

Intro text.

<!-- results:start -->
old table
<!-- results:end -->

## Install
"""


def test_update_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf8")
    assert update_readme(readme, "| a |\n|---|\n| 1 |\n") is True
    assert readme.read_text(encoding="utf8") == README.replace("old table", "| a |\n|---|\n| 1 |")
    assert update_readme(readme, "| a |\n|---|\n| 1 |") is False


@pytest.mark.parametrize("marker", ["<!-- results:start -->", "<!-- results:end -->"])
def test_update_readme_missing_marker(marker, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README.replace(marker, ""), encoding="utf8")
    with pytest.raises(DataError, match=f"README.md: no `{marker}` marker line"):
        update_readme(readme, "table")
    assert readme.read_text(encoding="utf8") == README.replace(marker, "")


def test_update_readme_end_before_start(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- results:end -->\n<!-- results:start -->\n", encoding="utf8")
    with pytest.raises(ValueError, match="no `<!-- results:end -->` marker line after"):
        update_readme(readme, "table")


def test_update_readme_named_block(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(README.replace("results:", "benchmark:"), encoding="utf8")
    assert update_readme(path, "| new |", block="benchmark")
    assert "<!-- benchmark:start -->\n| new |\n<!-- benchmark:end -->" in path.read_text(encoding="utf8")
    with pytest.raises(DataError, match="results:start"):
        update_readme(path, "| new |")
