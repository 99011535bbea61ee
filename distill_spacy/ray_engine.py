"""Labelling with Ray Data: the texts to label become a Ray dataset, `map_batches` runs them through
an actor pool of teacher replicas, and the log-probabilities stream back into the driver's label
cache, one committed transaction per batch.

Ray is an optional extra (`pip install -e ".[ray]"`): it is imported here only, and only when the
engine is used. The teacher travels to the actors through Ray's object store (its folder as one tar
archive), so the nodes of a cluster need distill_spacy and the teacher's packages installed, but no
shared file system.
"""
import io
import logging
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy
from tqdm import tqdm
from wasabi import msg

from .data import PathLike
from .errors import E_RAY_CONNECT, E_RAY_MISSING, E_RAY_RESOURCES, UserError


@dataclass
class RayOptions:
    """Where and how wide the Ray engine labels (vars `ray_*`)."""

    # "" starts a local Ray for the command (and stops it after); "auto" or "ray://<head>:10001"
    # joins an existing cluster.
    address: str = ""
    # Teacher replicas (Ray actors), and the CPUs and GPUs each one reserves.
    concurrency: int = 2
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    # Most texts per block that the driver puts into the object store (it holds one at a time);
    # smaller sets get smaller blocks, so that every actor has work (`block_size_for`).
    block_size: int = 4096


def block_size_for(n_texts: int, batch_size: int, options: RayOptions) -> int:
    """Texts per block: at most `options.block_size`, and small enough that each actor gets about
    8 blocks (an actor takes whole blocks), in whole batches."""
    per_actor = -(-n_texts // (8 * max(1, options.concurrency)))
    batches = max(1, -(-per_actor // batch_size))
    return max(1, min(options.block_size, batches * batch_size))


def import_ray():
    """RETURNS (module): `ray`, with Ray Data; a UserError with the install command if missing."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise UserError(E_RAY_MISSING.format(error=e)) from None
    return ray


def pack_folder(path: PathLike) -> bytes:
    """RETURNS (bytes): The folder as an uncompressed tar archive (weights hardly compress)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(path), arcname="teacher")
    return buffer.getvalue()


def unpack_folder(data: bytes, parent: PathLike) -> Path:
    """RETURNS (Path): The folder packed by `pack_folder`, unpacked under `parent`."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(str(parent), filter="data")
    return Path(parent) / "teacher"


class TeacherReplica:
    """One teacher inside a Ray actor: `map_batches` calls it on batches of {"text": [...]} and
    gets {"text", "logprobs"} back, the log-probabilities in `labels` order.

    teacher (List[ObjectRef]): The packed teacher folder in the object store (in a list, so that
        Ray hands the reference over rather than resolving it).
    precision (str): "fp32" or "int8" (`distill_spacy.precision`).
    labels (List[str]): The teacher's labels, in the cache's order.
    use_gpu (bool): Run the teacher on the actor's GPU (Ray makes it device 0 for the actor).
    threads (int): PyTorch threads of this actor (its reserved CPUs); 0 leaves PyTorch's default.
    """

    def __init__(self, teacher: List, precision: str, labels: List[str], use_gpu: bool = False, threads: int = 0):
        import ray
        import spacy
        import torch

        from .precision import load_teacher

        if threads > 0:
            torch.set_num_threads(threads)
        if use_gpu:
            spacy.require_gpu(0)
        self.tmp = tempfile.TemporaryDirectory(prefix="distill-teacher-")
        path = unpack_folder(ray.get(teacher[0]), self.tmp.name)
        self.nlp = load_teacher(path, precision)
        self.labels = list(labels)

    def __call__(self, batch: Dict[str, numpy.ndarray]) -> Dict[str, numpy.ndarray]:
        from .label import teacher_logprobs

        texts = [str(text) for text in batch["text"]]
        return {"text": numpy.asarray(texts, dtype=object), "logprobs": teacher_logprobs(self.nlp, texts, self.labels)}


def connect(ray, options: RayOptions) -> bool:
    """Join the cluster at `options.address`, or start a local Ray; nothing if Ray is running.

    RETURNS (bool): Whether this call started (or joined) Ray, so the caller shuts it down.
    """
    if ray.is_initialized():
        return False
    kwargs = dict(logging_level=logging.WARNING, include_dashboard=False)
    try:
        if options.address:
            ray.init(address=options.address, **kwargs)
        else:
            ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise UserError(E_RAY_CONNECT.format(address=options.address or "local", error=e)) from None
    return True


def check_resources(ray, options: RayOptions) -> None:
    """Fail early where the actors could never all start (Ray would wait for them forever); a
    cluster that autoscales may add nodes, so there this only warns."""
    have = ray.cluster_resources()
    wanted = {"CPU": options.concurrency * options.num_cpus, "GPU": options.concurrency * options.num_gpus}
    short = {k: v for k, v in wanted.items() if v > have.get(k, 0)}
    if not short:
        return
    what = ", ".join(f"{v:g} {k}" for k, v in short.items())
    found = ", ".join(f"{have.get(k, 0):g} {k}" for k in short)
    if options.address:
        msg.warn(f"The Ray actors ask for {what}, but the cluster has {found} now: waiting for it to scale up")
    else:
        raise UserError(E_RAY_RESOURCES.format(what=what, have=found))


def label_with_ray(
    teacher_dir: PathLike,
    texts: Sequence[str],
    cache,
    batch_size: int = 64,
    precision: str = "fp32",
    use_gpu: bool = False,
    options: RayOptions = RayOptions(),
    progress: bool = True,
) -> int:
    """Label texts with an actor pool of teacher replicas and store the results in the cache.

    teacher_dir (PathLike): The trained teacher pipeline.
    texts (Sequence[str]): Texts to label: distinct and not yet cached (the caller filters them),
        best sorted by length so that each batch pads little.
    cache (LabelCache): The driver's cache; each finished batch is committed to it on arrival.
    batch_size (int): Texts per forward pass in an actor.
    precision (str): "fp32" or "int8".
    use_gpu (bool): Give each actor a GPU (options.num_gpus, at least 1) and run the teacher on it.
    options (RayOptions): Cluster address, actors and their resources.
    progress (bool): Show a progress bar.
    RETURNS (int): The number of texts labelled (and cached).
    """
    ray = import_ray()
    import pyarrow

    num_gpus = max(options.num_gpus, 1.0) if use_gpu else options.num_gpus
    options = RayOptions(options.address, options.concurrency, options.num_cpus, num_gpus, options.block_size)
    if not texts:
        return 0
    started = connect(ray, options)
    try:
        check_resources(ray, options)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the driver's own bar counts the cached results
        teacher = ray.put(pack_folder(teacher_dir))
        size = block_size_for(len(texts), batch_size, options)
        blocks = [
            ray.put(pyarrow.table({"text": pyarrow.array(texts[i : i + size], pyarrow.string())}))
            for i in range(0, len(texts), size)
        ]
        labelled = ray.data.from_arrow_refs(blocks).map_batches(
            TeacherReplica,
            fn_constructor_kwargs=dict(teacher=[teacher], precision=precision, labels=list(cache.labels),
                                       use_gpu=use_gpu, threads=int(options.num_cpus)),
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=options.concurrency),
            num_cpus=options.num_cpus,
            num_gpus=options.num_gpus,
        )
        done = 0
        with tqdm(total=len(texts), unit="text", desc="Labelling (Ray)", disable=not progress) as bar:
            for batch in labelled.iter_batches(batch_size=None, batch_format="numpy"):
                batch_texts = [str(text) for text in batch["text"]]
                cache.put(zip(batch_texts, batch["logprobs"]))
                done += len(batch_texts)
                bar.update(len(batch_texts))
        return done
    finally:
        if started:
            ray.shutdown()
