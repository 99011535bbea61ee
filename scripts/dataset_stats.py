"""Describe a labelled data set: counts, lengths, sentences, hard cases and near-duplicates."""
import json
import re
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import List, Optional

import spacy
import typer
from wasabi import msg

from distill_spacy.data import read_records

WORD = re.compile(r"\w+")


def near_duplicate_pairs(texts: List[str], threshold: float = 0.8) -> List[tuple]:
    """Pairs (i, j) whose lower-cased word sets have a Jaccard similarity >= threshold."""
    sets = [frozenset(WORD.findall(t.lower())) for t in texts]
    pairs = []
    for i, j in combinations(range(len(texts)), 2):
        a, b = sets[i], sets[j]
        # |a & b| / |a | b| >= t needs min/max size >= t: skip hopeless pairs cheaply
        if not a or not b or min(len(a), len(b)) < threshold * max(len(a), len(b)):
            continue
        if len(a & b) / len(a | b) >= threshold:
            pairs.append((i, j))
    return pairs


def main(
    files: List[Path] = typer.Argument(..., exists=True, help="Labelled files (.csv, .jsonl, .yml)"),
    lang: str = typer.Option("en", "--lang", help="Language of the sentence splitter"),
    threshold: float = typer.Option(0.8, "--threshold", help="Jaccard threshold for near-duplicates"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the figures as JSON"),
):
    """Describe a labelled data set: counts, lengths, sentences, hard cases and near-duplicates."""
    records = [r for f in files for r in read_records(f)]
    texts = [r.text for r in records]
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    n_sents = [len(list(doc.sents)) for doc in nlp.pipe(texts)]
    n_words = [len(WORD.findall(t)) for t in texts]
    extra = {}
    for f in files:  # optional CSV columns of the embedded set: category, phenomena
        if f.suffix == ".csv":
            import pandas as pd

            df = pd.read_csv(f, dtype=str, keep_default_na=False)
            for col in ("category", "phenomena"):
                if col in df:
                    extra.setdefault(col, []).extend(df[col].tolist())
    pairs = near_duplicate_pairs(texts, threshold)
    stats = {
        "files": [str(f) for f in files],
        "examples": len(records),
        "per_file": dict(Counter(Path(r.path).name for r in records)),
        "labels": dict(Counter(r.label for r in records)),
        "words": {"min": min(n_words), "median": sorted(n_words)[len(n_words) // 2], "max": max(n_words)},
        "sentences": {
            "1": sum(n == 1 for n in n_sents),
            "2-4": sum(2 <= n <= 4 for n in n_sents),
            "5+": sum(n >= 5 for n in n_sents),
        },
        "multi_sentence_share": sum(n > 1 for n in n_sents) / len(texts),
        "exact_duplicates": len(texts) - len(set(texts)),
        "near_duplicate_pairs": len(pairs),
        "near_duplicate_share": len({j for _, j in pairs}) / len(texts),
    }
    if "category" in extra:
        stats["categories"] = dict(Counter(extra["category"]))
    if "phenomena" in extra:
        tags = [set(p.split(";")) - {""} for p in extra["phenomena"]]
        stats["hard_case_share"] = sum(bool(t) for t in tags) / len(tags)
        stats["phenomena"] = dict(Counter(tag for t in tags for tag in t))
    for i, j in pairs[:10]:
        msg.text(f"near-duplicates: {texts[i]!r} ~ {texts[j]!r}")
    print(json.dumps(stats, indent=2))
    if output:
        output.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    typer.run(main)
