"""Score trained text classifiers on a gold DocBin: accuracy, macro-F1 and per-class figures."""
import json
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Union

import spacy
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from spacy.tokens import Doc, DocBin

PathLike = Union[str, Path]


def gold_labels(docs: Iterable[Doc]) -> List[str]:
    """The gold label of each Doc: the category with the highest value in `doc.cats`."""
    return [max(doc.cats, key=doc.cats.get) for doc in docs]


def predict_labels(nlp: spacy.Language, texts: Sequence[str], batch_size: int = 256) -> List[str]:
    """The predicted label of each text: the category with the highest score."""
    return [max(doc.cats, key=doc.cats.get) for doc in nlp.pipe(texts, batch_size=batch_size)]


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> Dict:
    """Accuracy, macro-F1 and per-class precision/recall/F1 of single-label predictions.

    gold (Sequence[str]): Gold labels.
    pred (Sequence[str]): Predicted labels, aligned with gold.
    labels (Sequence[str]): All labels, so that a class that is never predicted still counts.
    RETURNS (Dict): {"n", "accuracy", "macro_f1", "per_class": {label: {"p", "r", "f1", "support"}}}.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    p, r, f, support = precision_recall_fscore_support(
        gold, pred, labels=list(labels), average=None, zero_division=0
    )
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)),
        "macro_f1": float(f.mean()),
        "per_class": {
            label: {"p": float(p[i]), "r": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, label in enumerate(labels)
        },
    }


def evaluate_model(model: PathLike, test_path: PathLike) -> Dict:
    """Load a trained pipeline and score it on the gold Docs of a `.spacy` file."""
    nlp = spacy.load(model)
    docs = list(DocBin().from_disk(test_path).get_docs(nlp.vocab))
    gold = gold_labels(docs)
    pred = predict_labels(nlp, [doc.text for doc in docs])
    labels = list(docs[0].cats) if docs else []
    scores = classification_metrics(gold, pred, labels)
    scores.update({"model": str(model), "test": str(test_path)})
    return scores


def evaluate_models(models: Dict[str, PathLike], test_path: PathLike, output_dir: PathLike) -> Dict[str, Dict]:
    """Score several models on the same test set; write `<output_dir>/<name>.json` for each."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, path in models.items():
        results[name] = evaluate_model(path, test_path)
        (output_dir / f"{name}.json").write_text(json.dumps(results[name], indent=2), encoding="utf8")
    return results
