"""Failures of the scripts: one `✘ ... Fix: ...` message, an exit code, and no partial output."""
import subprocess
import sys
from pathlib import Path

import pytest

from distill_spacy.cli import EXIT_INTERRUPTED, EXIT_USER_ERROR, user_errors
from distill_spacy.data import preprocess
from distill_spacy.errors import DataError

ROOT = Path(__file__).parent.parent
CSV = "text,label\ngreat sound,positive\nbroke fast,negative\nlove it,positive\nawful,negative\n"


def run_script(name, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *map(str, args)],
                          capture_output=True, text=True)


def test_missing_unlabelled_file_is_one_message(tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text(CSV, encoding="utf8")
    preprocess({"train": csv, "dev": csv}, tmp_path / "corpus")
    out = tmp_path / "transfer.jsonl"
    result = run_script("augment.py", tmp_path / "corpus" / "train.spacy", out,
                        "--unlabelled", tmp_path / "no_such_file.txt", "--n-iter", "0")
    assert result.returncode == EXIT_USER_ERROR
    assert "Traceback" not in result.stderr
    assert "Cannot build the transfer set, nothing written" in result.stdout
    assert "no_such_file.txt: the file does not exist\n  Fix: check the path" in result.stderr
    assert not out.exists() and not out.with_suffix(".summary.json").exists()


def test_unreadable_input_is_one_message(tmp_path):
    result = run_script("preprocess.py", tmp_path / "train.csv", tmp_path / "dev.csv", "--output-dir", tmp_path / "c")
    # typer checks `exists` first: a usage error (exit 2), not a traceback
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "error,code,text",
    [
        (DataError("f.csv", 3, "bad", "fix it"), EXIT_USER_ERROR, "f.csv, line 3: bad\n  Fix: fix it"),
        (PermissionError(13, "Permission denied", "out/x.spacy"), EXIT_USER_ERROR, "out/x.spacy: permission denied"),
        (FileNotFoundError(2, "No such file", "in.txt"), EXIT_USER_ERROR, "in.txt: no such file or folder"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, ""),
    ],
)
def test_user_errors(error, code, text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        with user_errors("Step"):
            raise error
    assert exit_info.value.code == code
    captured = capsys.readouterr()
    assert text in captured.err
    assert "nothing written" in captured.out


def test_other_errors_pass_through():
    with pytest.raises(ZeroDivisionError):
        with user_errors("Step"):
            1 / 0


def load_script(name):
    """A script's Typer app, imported from its file (scripts/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def run_in_process(name, *args):
    import typer
    from typer.testing import CliRunner

    app = typer.Typer(add_completion=False)
    app.command()(load_script(name))
    return CliRunner().invoke(app, list(map(str, args)))


def test_read_only_output_folder_is_one_message(tmp_path, monkeypatch):
    csv = tmp_path / "train.csv"
    csv.write_text(CSV, encoding="utf8")

    def refuse(*args, **kwargs):  # as an unwritable folder does (root ignores chmod, so simulate it)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("distill_spacy.data.tempfile.mkstemp", refuse)
    result = run_in_process("preprocess", csv, csv, "--output-dir", tmp_path / "corpus")
    assert result.exit_code == EXIT_USER_ERROR
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Invalid input, nothing written" in result.output
    assert "[E002]" in result.output and "cannot write here (Permission denied)" in result.output
    assert "Fix: choose an output folder you can write to" in result.output
    assert not list((tmp_path / "corpus").glob("*"))


def test_missing_column_names_the_project_var(tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text(CSV.replace("text,label", "review,label"), encoding="utf8")
    result = run_script("preprocess.py", csv, csv, "--output-dir", tmp_path / "corpus")
    assert result.returncode == EXIT_USER_ERROR and "Traceback" not in result.stderr
    assert "[E004]" in result.stderr and "--vars.text_col" in result.stderr
    assert not (tmp_path / "corpus").exists()
