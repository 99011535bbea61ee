"""Cut a labelled data set (text,label CSVs) into a small train set plus unlabelled transfer text."""
from pathlib import Path

import pandas as pd
import typer
from wasabi import msg


def main(
    source_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder with train.csv, dev.csv, test.csv"),
    output_dir: Path = typer.Argument(..., help="Folder for train.csv, dev.csv, test.csv, unlabelled.txt"),
    n_train: int = typer.Option(600, "--n-train", help="Labelled training texts, spread evenly over the labels"),
    n_dev: int = typer.Option(400, "--n-dev", help="Dev texts (a random sample of dev.csv)"),
    seed: int = typer.Option(0, "--seed"),
):
    """Cut a labelled data set (text,label CSVs) into a small train set plus unlabelled transfer text.

    The train texts left out become `unlabelled.txt`: the in-domain text the teacher labels for the
    student (as in the issue's benchmark on banking77 and SNIPS).
    """
    train = pd.read_csv(source_dir / "train.csv", keep_default_na=False)
    per_label = -(-n_train // train["label"].nunique())  # ceil
    sample = (
        train.groupby("label").sample(n=per_label, random_state=seed)
        .sample(frac=1, random_state=seed).head(n_train)
    )
    rest = train.drop(sample.index)
    output_dir.mkdir(parents=True, exist_ok=True)
    sample.to_csv(output_dir / "train.csv", index=False)
    dev = pd.read_csv(source_dir / "dev.csv", keep_default_na=False)
    dev.sample(min(n_dev, len(dev)), random_state=seed).to_csv(output_dir / "dev.csv", index=False)
    pd.read_csv(source_dir / "test.csv", keep_default_na=False).to_csv(output_dir / "test.csv", index=False)
    texts = [" ".join(t.split()) for t in rest["text"]]
    (output_dir / "unlabelled.txt").write_text("\n".join(texts) + "\n", encoding="utf8")
    msg.good(
        f"{len(sample)} train texts ({sample['label'].nunique()} labels), {min(n_dev, len(dev))} dev, "
        f"{len(texts)} unlabelled texts in {output_dir}"
    )


if __name__ == "__main__":
    typer.run(main)
