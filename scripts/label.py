"""Label the transfer set with the teacher's class probabilities and write the student's DocBin."""
from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from distill_spacy.cli import user_errors
from distill_spacy.label import label_transfer_set
from distill_spacy.ray_engine import RayOptions


def main(
    teacher: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained teacher pipeline"),
    transfer: Path = typer.Argument(..., exists=True, dir_okay=False, help="Transfer texts (.jsonl from augment)"),
    train: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold training DocBin (for the originals)"),
    output: Path = typer.Argument(..., help="Folder of DocBin shards to write (e.g. corpus/transfer.spacy)"),
    cache: Path = typer.Option(Path("corpus/label_cache.sqlite"), "--cache", help="Label cache (SQLite)"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", exists=True, dir_okay=False,
                                               help="The teacher's calibration.json: its temperature re-tempers the probabilities"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Texts per forward pass"),
    balance: bool = typer.Option(False, "--balance/--no-balance", help="Drop augmented texts of over-represented teacher labels"),
    seed: int = typer.Option(0, "--seed", help="Seed of the balancing draw"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
    precision: str = typer.Option("fp32", "--precision", help="Teacher precision: fp32, or int8 (dynamic quantization, CPU only)"),
    engine: str = typer.Option("local", "--engine", help="local: in this process; ray: an actor pool of teacher replicas (Ray Data)"),
    ray_address: str = typer.Option("", "--ray-address", help="Ray cluster to join (auto, ray://head:10001); '' starts a local Ray"),
    ray_concurrency: int = typer.Option(2, "--ray-concurrency", min=1, help="Teacher replicas (Ray actors)"),
    ray_num_cpus: float = typer.Option(1.0, "--ray-num-cpus", min=0.0, help="CPUs per Ray actor (also its PyTorch threads)"),
    ray_num_gpus: float = typer.Option(0.0, "--ray-num-gpus", min=0.0, help="GPUs per Ray actor (at least 1 when --gpu-id >= 0)"),
    shard_size: int = typer.Option(10_000, "--shard-size", min=1, help="Docs per shard of the output"),
):
    """Label the transfer set with the teacher's class probabilities and write the student's DocBin."""
    if gpu_id >= 0 and engine != "ray":  # Ray actors take their GPUs from Ray
        spacy.require_gpu(gpu_id)
    # Ctrl-C keeps every finished batch in the cache (the message says so); outputs come at the end.
    with user_errors("Cannot label the transfer set"):
        options = RayOptions(ray_address, ray_concurrency, ray_num_cpus, ray_num_gpus)
        summary = label_transfer_set(teacher, transfer, train, output, cache, batch_size, balance, seed, calibration,
                                     precision=precision, engine=engine, gpu_id=gpu_id, ray_options=options,
                                     shard_size=shard_size)
    summary_path = output.with_suffix(".labels.json")
    shares = ", ".join(
        f"{label} {n / summary.texts:.0%}" for label, n in sorted(summary.teacher_label_counts.items())
    )
    msg.info(f"Teacher labels over the transfer set: {shares}")
    if summary.dropped_by_balancing:
        msg.info(f"Balancing dropped {sum(summary.dropped_by_balancing.values())} texts: {summary.dropped_by_balancing}")
    if calibration:
        msg.info(
            f"Teacher temperature fitted on dev {summary.fitted_temperature:.4g}, applied "
            f"{summary.temperature:.4g} (only T < 1, sharpening, is applied): mean top probability "
            f"{summary.mean_max_probability_raw:.3f} -> {summary.mean_max_probability:.3f}"
        )
    msg.good(
        f"Labelled {summary.texts} texts ({summary.from_cache} from the cache), "
        f"{summary.with_gold} with gold labels, teacher in {summary.precision}, engine {summary.engine}; "
        f"wrote {output} ({summary.shards} shard(s)) and {summary_path}"
    )


if __name__ == "__main__":
    typer.run(main)
