"""A Rasa 3 intent classifier that reads the `doc.cats` of a spaCy text classifier.

Rasa loads this module by its dotted path from `config.yml`; nothing in distill_spacy imports it,
so the rest of the package works without Rasa:

    pipeline:
      - name: SpacyNLP
        model: en_intents_student        # the packaged student (pip-installed)
        case_sensitive: true             # the student was trained on text as written
      - name: distill_spacy.rasa.SpacyTextcatIntentClassifier

SpacyNLP runs the spaCy pipeline once per message and stores the Doc; the classifier turns that
Doc's `cats` into `intent` and `intent_ranking`. It has nothing to train: the text classifier was
trained (distilled) outside Rasa, and its labels are the intent names.
"""
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.io import raise_warning
from spacy.language import Language
from spacy.pipeline import TextCategorizer

from . import errors

RANKING_LENGTH = "ranking_length"
RENORMALIZE_CONFIDENCES = "renormalize_confidences"
TEXTCAT = "textcat"
CASE_SENSITIVE = "case_sensitive"

Ranking = List[Dict[Text, Any]]


def rank_intents(
    cats: Dict[str, float],
    labels: Sequence[str],
    ranking_length: int = LABEL_RANKING_LENGTH,
    renormalize: bool = False,
) -> Tuple[Dict[Text, Any], Ranking]:
    """Turn a text classifier's scores into Rasa's `intent` and `intent_ranking`.

    The scores of `labels` are first normalised to sum to 1 (textcat's softmax already does, up to
    rounding; textcat_multilabel's independent scores become a distribution), then sorted.

    cats (Dict[str, float]): `doc.cats`.
    labels (Sequence[str]): The labels of the text classifier; they are the intent names.
    ranking_length (int): How many intents the ranking keeps; 0 keeps all.
    renormalize (bool): Rescale the kept confidences to sum to 1 after cutting the ranking.
    RETURNS (Tuple[Dict[Text, Any], Ranking]): The top intent and the ranking, best first, as
        `{"name": ..., "confidence": ...}` dicts.
    """
    scores = {label: max(float(cats.get(label, 0.0)), 0.0) for label in labels}
    total = sum(scores.values())
    if total <= 0.0:
        return {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, []
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if 0 < ranking_length < len(ranked):
        ranked = ranked[:ranking_length]
        if renormalize:
            total = sum(score for _, score in ranked)
    ranking = [
        {INTENT_NAME_KEY: label, PREDICTED_CONFIDENCE_KEY: score / total} for label, score in ranked
    ]
    return dict(ranking[0]), ranking


def find_text_classifier(
    nlp: Language, name: Optional[str] = None, model_name: Optional[str] = None
) -> Tuple[str, Tuple[str, ...]]:
    """Find the text classifier whose labels are the intents.

    nlp (Language): The pipeline SpacyNLP loaded.
    name (Optional[str]): The pipe to use; None takes the pipeline's only text classifier.
    model_name (Optional[str]): How the user named the model, for messages; None gives the
        package name that `spacy package` builds from the meta.
    RETURNS (Tuple[str, Tuple[str, ...]]): The pipe's name and its labels. Raises ValueError with
        a message that names the pipes found and the fix.
    """
    model = model_name or f"{nlp.lang}_{nlp.meta.get('name', '')}"
    textcats = [pipe_name for pipe_name, pipe in nlp.pipeline if isinstance(pipe, TextCategorizer)]
    if name is not None:
        if name not in textcats:
            raise ValueError(
                errors.E_RASA_TEXTCAT_NOT_FOUND.format(
                    name=name, model=model, textcats=textcats or "none", pipes=nlp.pipe_names
                )
            )
    elif len(textcats) == 1:
        name = textcats[0]
    elif not textcats:
        raise ValueError(errors.E_RASA_NO_TEXTCAT.format(model=model, pipes=nlp.pipe_names))
    else:
        raise ValueError(
            errors.E_RASA_MANY_TEXTCATS.format(model=model, textcats=textcats, first=textcats[0])
        )
    labels = tuple(nlp.get_pipe(name).labels)
    if not labels:
        raise ValueError(errors.E_RASA_NO_LABELS.format(name=name, model=model))
    return name, labels


def _spacy_nlp_configs(schema: GraphSchema, node_name: Text) -> List[Dict[Text, Any]]:
    """The configs (as written in config.yml) of the SpacyNLP nodes that run before a node."""
    configs, seen, todo = [], set(), [node_name]
    while todo:
        name = todo.pop()
        if name in seen or name not in schema.nodes:  # placeholders such as __message__
            continue
        seen.add(name)
        node = schema.nodes[name]
        if name != node_name and issubclass(node.uses, SpacyNLP):
            configs.append(node.config)
        todo.extend(node.needs.values())
    return configs


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    # Nothing to learn: the text classifier was trained outside Rasa. Like Rasa's other
    # pretrained components, it is left out of the training graph and built when the model
    # loads (`create`), which is where the pipeline is checked.
    is_trainable=False,
    # Pass SpacyNLP's loaded pipeline to `process`, to find its text classifier and labels.
    model_from="SpacyNLP",
)
class SpacyTextcatIntentClassifier(IntentClassifier, GraphComponent):
    """Intent classifier that uses the scores of the spaCy text classifier loaded by SpacyNLP."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Components that should be included in the pipeline before this component."""
        return [SpacyNLP]

    @staticmethod
    def required_packages() -> List[Text]:
        """Any extra python dependencies required for this component to run."""
        return ["spacy"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Number of top intents for which confidences are reported in `intent_ranking`.
            # Set to 0 to report all intents.
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
            # Rescale the reported confidences to sum to 1 after cutting the ranking to
            # `ranking_length`. Confidences are always normalised over all intents first.
            RENORMALIZE_CONFIDENCES: False,
            # Name of the spaCy pipe whose labels are the intents (e.g. "textcat"). None takes
            # the model's only text classifier (textcat or textcat_multilabel).
            TEXTCAT: None,
        }

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        """Construct a new classifier."""
        self.name = name
        self.config = {**self.get_default_config(), **config}
        # The pipe and labels, found once per loaded spaCy model.
        self._model_id: Optional[int] = None
        self._labels: Tuple[str, ...] = ()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpacyTextcatIntentClassifier":
        """Creates the component (see parent class for full docstring)."""
        cls.validate_config(config)
        spacy_nlp_configs = _spacy_nlp_configs(
            execution_context.graph_schema, execution_context.node_name
        )
        if not spacy_nlp_configs:
            raise InvalidConfigException(errors.E_RASA_NO_SPACY_NLP.format(name=cls.__name__))
        # SpacyNLP lowercases every message unless told otherwise (Rasa's default), while a
        # student learns from text as written. An explicit setting is the user's informed choice.
        lowercased = [c for c in spacy_nlp_configs if CASE_SENSITIVE not in c]
        if lowercased:
            raise_warning(errors.W_RASA_LOWERCASE.format(model=lowercased[0].get("model")))
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Validates that the component is configured properly."""
        ranking_length = config.get(RANKING_LENGTH, LABEL_RANKING_LENGTH)
        is_count = isinstance(ranking_length, int) and not isinstance(ranking_length, bool)
        if not is_count or ranking_length < 0:
            raise InvalidConfigException(
                errors.E_RASA_BAD_RANKING_LENGTH.format(value=ranking_length, name=cls.__name__)
            )

    def _intent_labels(self, model: Optional[SpacyModel]) -> Tuple[str, ...]:
        name = self.__class__.__name__
        if model is None:
            raise InvalidConfigException(errors.E_RASA_NO_SPACY_NLP.format(name=name))
        if self._model_id != id(model.model):
            try:
                _, self._labels = find_text_classifier(
                    model.model, self.config[TEXTCAT], model.model_name
                )
            except ValueError as e:
                # e is a coded catalogue message with its fix; say which component met it.
                raise InvalidModelError(f"{name}: {e}") from None
            self._model_id = id(model.model)
        return self._labels

    def process(
        self, messages: List[Message], model: Optional[SpacyModel] = None
    ) -> List[Message]:
        """Set the intent and the intent ranking of each message from its Doc's `cats`.

        messages (List[Message]): The messages, each with the Doc SpacyNLP stored for its text.
        model (Optional[SpacyModel]): SpacyNLP's loaded pipeline. Optional only so that a pipeline
            without SpacyNLP before this component gets as far as `create`, whose message names
            the fix; a required argument fails Rasa's graph validation with a message that does not.
        RETURNS (List[Message]): The same messages, with `intent` and `intent_ranking` set.
        """
        labels = self._intent_labels(model)
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                if message.get(TEXT):
                    name = self.__class__.__name__
                    raise InvalidModelError(errors.E_RASA_NO_DOC.format(name=name))
                # An empty message: SpacyNLP stores no Doc, so there is nothing to classify.
                intent, ranking = rank_intents({}, labels)
            else:
                intent, ranking = rank_intents(
                    doc.cats,
                    labels,
                    ranking_length=self.config[RANKING_LENGTH],
                    renormalize=self.config[RENORMALIZE_CONFIDENCES],
                )
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
