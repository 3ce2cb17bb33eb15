"""`scalelab compress train|distill|quantize|export|bench`: compression measured on a real task.

torch, onnx and onnxruntime are imported inside the commands, so `scalelab --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from scalelab.cli.common import (
    MAX_SEED,
    JsonOption,
    examples,
    finite,
    out,
    output_path,
    print_json,
    require_lab,
    rich_table,
)
from scalelab.cli.lab_cmd import _progress
from scalelab.core.errors import ConfigError
from scalelab.report.section import Table
from scalelab.report.sections.compress import bench_table, distill_table

compress_app = typer.Typer(
    help="Compress a text classifier (distillation, int8/int4 quantization, ONNX) and measure it.",
    no_args_is_help=True,
)
DATASET_HELP = "shipped data set: bbc (5 topics), rt (fresh/rotten), tweets, debates"
# Bounds of the model shapes and threads (a text classifier trained on a CPU in minutes).
MAX_LAYERS, MAX_DIM, MAX_THREADS = 64, 4096, 1024


def _train_settings(epochs: int, batch: int, lr: float, seed: int, threads: int) -> Any:
    from scalelab.compress.train import TrainSettings
    from scalelab.core.io import build

    fields = {"epochs": epochs, "batch_size": batch, "lr": lr, "seed": seed, "threads": threads}
    return build(TrainSettings, fields, "compress")


def _kv_table(title: str, rows: list[list[str]]) -> None:
    out.print(rich_table(Table(title, ["", "value"], rows)))


def train(
    out_dir: Path = typer.Option(
        ..., "--out", callback=output_path(folder=True), help="Checkpoint folder to create."
    ),
    dataset: str = typer.Option("bbc", "--dataset", help=DATASET_HELP),
    layers: int = typer.Option(4, "--layers", min=1, max=MAX_LAYERS),
    dim: int = typer.Option(128, "--dim", min=8, max=MAX_DIM),
    heads: int = typer.Option(4, "--heads", min=1, max=MAX_LAYERS),
    max_len: int = typer.Option(
        128, "--max-len", min=2, max=8192, help="Tokens per text incl. <cls>."
    ),
    vocab: int = typer.Option(5000, "--vocab", min=16, max=10**6, help="Vocabulary size (words)."),
    epochs: int = typer.Option(6, "--epochs", min=1, max=10**4),
    batch: int = typer.Option(16, "--batch", min=1, max=2**20),
    lr: float = typer.Option(3e-3, "--lr", callback=finite(ge=0.0, le=10.0)),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED),
    threads: int = typer.Option(
        1, "--threads", min=1, max=MAX_THREADS, help="torch threads while training."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train the teacher: a transformer-encoder text classifier (minutes on 2 CPU cores)."""
    require_lab()
    from scalelab.compress.models import EncoderConfig
    from scalelab.compress.workflow import train_teacher
    from scalelab.core.io import build

    shape = {"n_layers": layers, "d_model": dim, "n_heads": heads, "max_len": max_len}
    build(EncoderConfig, shape, "compress train")  # one-line error for e.g. --dim 100 --heads 3
    settings = _train_settings(epochs, batch, lr, seed, threads)
    with _progress("training", epochs, enabled=not as_json) as advance:
        path, meta, r = train_teacher(dataset, shape, settings, out_dir, vocab,
                                      on_epoch=lambda e, loss: advance(f"epoch {e} loss {loss:.3f}", e))  # fmt: skip
    result = {"checkpoint": str(path), "test_accuracy_frac": r.test_accuracy_frac,
              "num_params": r.model.num_params(), "train_s": r.train_s, "dataset": dataset,
              "config": meta.config}  # fmt: skip
    if as_json:
        print_json(result)
        return
    _kv_table(f"scalelab compress train ({dataset})", [
        ["checkpoint", str(path)], ["parameters", f"{r.model.num_params():,}"],
        ["test accuracy (%)", f"{100 * r.test_accuracy_frac:.1f}"], ["training time (s)", f"{r.train_s:.0f}"],
    ])  # fmt: skip


def distill(
    teacher: Path = typer.Option(..., "--teacher", help="Teacher checkpoint (compress train)."),
    student_layers: int = typer.Option(2, "--student-layers", min=1, max=MAX_LAYERS),
    student_dim: int = typer.Option(64, "--student-dim", min=8, max=MAX_DIM),
    student_heads: int = typer.Option(2, "--student-heads", min=1, max=MAX_LAYERS),
    out_dir: Path = typer.Option(
        ...,
        "--out",
        callback=output_path(folder=True),
        help="Folder for the distilled student (seed 0).",
    ),
    seeds: int = typer.Option(
        3, "--seeds", min=1, max=100, help="Each seed trains the student alone and distilled."
    ),
    temperature: float = typer.Option(4.0, "--temperature", callback=finite(ge=0.01, le=1e3)),
    alpha: float = typer.Option(
        0.7, "--alpha", callback=finite(ge=0.0, le=1.0), help="Weight of the soft targets."
    ),
    hidden_weight: float = typer.Option(
        0.0,
        "--hidden-weight",
        callback=finite(ge=0.0, le=1e3),
        help="Pooled hidden-state MSE weight.",
    ),
    epochs: int = typer.Option(6, "--epochs", min=1, max=10**4),
    batch: int = typer.Option(16, "--batch", min=1, max=2**20),
    lr: float = typer.Option(3e-3, "--lr", callback=finite(ge=0.0, le=10.0)),
    threads: int = typer.Option(1, "--threads", min=1, max=MAX_THREADS),
    as_json: bool = JsonOption,
) -> None:
    """Distill a smaller student (Hinton et al. 2015) and compare it with the same student alone."""
    require_lab()
    from scalelab.compress.train import DistillSettings
    from scalelab.compress.workflow import distill as run_distill
    from scalelab.core.io import build

    kd = build(
        DistillSettings,
        {"temperature": temperature, "alpha": alpha, "hidden_weight": hidden_weight},
        "compress distill",
    )
    settings = _train_settings(epochs, batch, lr, 0, threads)
    with _progress("distillation", 2 * seeds, enabled=not as_json) as advance:
        r = run_distill(teacher, student_layers, student_dim, out_dir, student_heads, seeds, settings, kd,
                        on_run=lambda label: advance(label))  # fmt: skip
    if as_json:
        print_json(r.to_dict())
        return
    out.print(rich_table(distill_table(r.to_dict())))


def quantize(
    ckpt: Path = typer.Argument(..., help="fp32 checkpoint (compress train|distill)."),
    method: str = typer.Option(
        "int8-dynamic", "--method", help="int8-dynamic | int8-static | int4-weight"
    ),
    backend: str = typer.Option("torch", "--backend", help="torch | onnxruntime"),
    calib: int = typer.Option(
        128,
        "--calib",
        min=1,
        max=10**6,
        help="int8-static: training examples for activation ranges.",
    ),
    out_file: Path = typer.Option(
        None, "--out", callback=output_path(), help="Output file (default: next to CKPT)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Quantize a checkpoint into one .safetensors (torch) or .onnx (onnxruntime) file."""
    require_lab()
    from scalelab.compress.workflow import quantize as run_quantize

    r = run_quantize(ckpt, method, backend, out_file, calib)
    if as_json:
        print_json(r.to_dict())
        return
    rows = [
        ["output", r.out],
        ["size (bytes)", f"{r.out_bytes:,} ({100 * r.size_ratio:.1f}% of {r.source_bytes:,})"],
    ]
    if r.reduce_range is not None:
        rows.append(["reduce_range (7-bit weights, CPU without VNNI)", str(r.reduce_range)])
    if r.calib_examples is not None:
        rows.append(["calibration examples", str(r.calib_examples)])
    _kv_table(f"scalelab compress quantize --method {method} --backend {backend}", rows)


def export(
    ckpt: Path = typer.Argument(..., help="fp32 checkpoint (compress train|distill)."),
    out_file: Path = typer.Option(
        ..., "--out", callback=output_path(".onnx"), help="ONNX file to write (.onnx)."
    ),
    check: int = typer.Option(
        64, "--check", min=1, max=10**6, help="Held-out examples to compare against torch."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Export to ONNX (dynamo, dynamic batch axis) and check its logits against torch."""
    require_lab()
    from scalelab.compress.workflow import export as run_export

    with _progress("exporting", None, enabled=not as_json):
        r = run_export(ckpt, out_file, check)
    if as_json:
        print_json(r.to_dict())
        return
    _kv_table("scalelab compress export", [
        ["output", r.out], ["size (bytes)", f"{r.out_bytes:,}"],
        ["max |logit difference| vs torch", f"{r.max_abs_diff:.2e} on {r.num_examples} test texts (tolerance {r.atol:g})"],
        ["same predicted class (%)", f"{100 * r.argmax_agreement_frac:.1f}"],
    ])  # fmt: skip


def bench(
    models: list[Path] = typer.Argument(
        ..., help="Checkpoints, .safetensors and .onnx files; the first is the baseline."
    ),
    threads: int = typer.Option(
        1, "--threads", min=1, max=MAX_THREADS, help="Threads every variant runs on."
    ),
    repeats: int = typer.Option(
        20, "--repeats", min=3, max=10**4, help="Timed calls per variant and batch size."
    ),
    dataset: str = typer.Option(
        None, "--dataset", help="Override the data set the models were trained on."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Size, parameters, p50/p95 latency at batch 1 and 32, throughput and accuracy, side by side."""
    require_lab()
    from scalelab.compress.bench import bench_paths

    if len(set(models)) != len(models):
        raise ConfigError("compress bench: a model is named twice")
    if dataset is not None and not dataset.strip():
        raise ConfigError("--dataset: give a data set name (or leave the option out)")
    with _progress("benchmark", None, enabled=not as_json) as advance:
        r = bench_paths(models, threads, repeats, dataset, on_stage=lambda s: advance(s))
    if as_json:
        print_json(r.to_dict())
        return
    out.print(rich_table(bench_table(r.to_dict())))


# Each command's examples start from a tiny teacher (seconds to train), so they run as written.
_TEACHER = (
    "scalelab compress train --out teacher --layers 1 --dim 32 --heads 2 --vocab 500 --epochs 1"
)
COMPRESS_EXAMPLES = {
    "train": (
        _TEACHER,
        "scalelab compress train --out bigger-teacher --layers 2 --dim 64 --epochs 2",
    ),
    "distill": (
        _TEACHER,
        "scalelab compress distill --teacher teacher --student-layers 1 --student-dim 16 "
        "--seeds 1 --epochs 1 --out student",
    ),
    "quantize": (
        _TEACHER,
        "scalelab compress quantize teacher --out teacher-int8.safetensors",
        "scalelab compress quantize teacher --method int8-static --backend onnxruntime "
        "--calib 16 --out teacher-int8.onnx",
    ),
    "export": (_TEACHER, "scalelab compress export teacher --out teacher.onnx"),
    "bench": (
        _TEACHER,
        "scalelab compress quantize teacher --out teacher-int8.safetensors",
        "scalelab compress bench teacher teacher-int8.safetensors --repeats 3",
    ),
}


def register(app: typer.Typer) -> None:
    for name, fn in (("train", train), ("distill", distill), ("quantize", quantize),
                     ("export", export), ("bench", bench)):  # fmt: skip
        compress_app.command(name, epilog=examples(*COMPRESS_EXAMPLES[name]))(fn)
    app.add_typer(compress_app, name="compress")
