"""A DocBin written as a folder of shards, so that no step holds a large transfer set in memory.

`corpus/transfer.spacy` is a folder of `part-NNNNN.spacy` DocBins of at most `shard_size` docs each.
spaCy's `Corpus` reads such a folder as one corpus (its files in sorted order), so `spacy train
--paths.train corpus/transfer.spacy` needs no change; the helpers here read a single `.spacy` file
or such a folder alike.
"""
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Union

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .data import PathLike, write_all_atomic

SHARD_SIZE = 10_000


def docbin_paths(path: PathLike) -> List[Path]:
    """The DocBin files of a `.spacy` file or a folder of shards, in reading order (sorted, as
    spaCy's `Corpus` reads them).

    path (PathLike): A `.spacy` file, or a folder of them.
    RETURNS (List[Path]): The files.
    """
    path = Path(path)
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix == ".spacy" and not p.name.startswith("."))


def iter_docs(path: PathLike, vocab: Vocab) -> Iterator[Doc]:
    """Docs of a `.spacy` file or a folder of shards, one shard in memory at a time."""
    for shard in docbin_paths(path):
        yield from DocBin().from_disk(shard).get_docs(vocab)


def count_docs(path: PathLike) -> int:
    """RETURNS (int): The number of docs in a `.spacy` file or a folder of shards."""
    return sum(len(DocBin().from_disk(shard)) for shard in docbin_paths(path))


class ShardWriter:
    """Write docs as a folder of DocBin shards, built in a hidden folder beside the target and put
    in place by `commit` (with the step's other outputs), so that a failure leaves the previous
    output as it was.

    path (PathLike): The folder to write, e.g. `corpus/transfer.spacy` (a file of that name, as
        older versions wrote, is replaced).
    shard_size (int): Docs per shard.
    store_user_data (bool): Keep `doc.user_data` (the gold label of the original texts).
    """

    def __init__(self, path: PathLike, shard_size: int = SHARD_SIZE, store_user_data: bool = True):
        self.path = Path(path)
        self.shard_size = max(1, shard_size)
        self.store_user_data = store_user_data
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.staging, 0o777 & ~umask)  # mkdtemp's 0700 would stay on the output
        self.n_docs = 0
        self.n_shards = 0
        self._db = DocBin(store_user_data=store_user_data)

    def add(self, doc: Doc) -> None:
        self._db.add(doc)
        self.n_docs += 1
        if len(self._db) >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        if len(self._db) or self.n_shards == 0:  # an empty set still gets one (empty) shard
            self._db.to_disk(self.staging / f"part-{self.n_shards:05d}.spacy")
            self.n_shards += 1
        self._db = DocBin(store_user_data=self.store_user_data)

    def commit(self, others: Optional[Dict[PathLike, Union[bytes, str]]] = None) -> None:
        """Put the shards in place, together with other files of the step (written atomically).

        others (Optional[Dict[PathLike, Union[bytes, str]]]): More outputs, e.g. the summary.
        """
        if len(self._db) or self.n_shards == 0:
            self._flush()
        old = None
        if self.path.exists() or self.path.is_symlink():
            old = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".old"))
            os.replace(self.path, old / self.path.name)
        try:
            os.replace(self.staging, self.path)
            if others:
                write_all_atomic(others)
        except BaseException:
            if old is not None:  # put the previous output back
                if self.path.is_dir():
                    shutil.rmtree(self.path)
                os.replace(old / self.path.name, self.path)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove the staged shards (nothing was put in place)."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.staging.exists():  # not committed
            self.abort()
