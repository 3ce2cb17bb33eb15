"""Measure variants side by side: size on disk, parameters, latency p50/p95 at batch 1 and 32 on
pinned threads, throughput and held-out accuracy. Timing rounds visit the variants in turn, so
load from other processes on a shared machine falls on all of them alike and ratios stay fair."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scalelab.compress.text import TextTask, Vocabulary, load_task
from scalelab.compress.variants import Variant, open_variant
from scalelab.core.errors import ConfigError

BATCH_SIZES = (1, 32)


@dataclass(frozen=True)
class Latency:
    """Wall-clock p50/p95 per call, and the calling thread's CPU time p50 (on one thread all the
    work runs there, so it ignores time lost to other processes on a shared machine)."""

    batch_size: int
    p50_s: float
    p95_s: float
    cpu_p50_s: float

    @property
    def examples_per_s(self) -> float:
        return self.batch_size / self.p50_s


@dataclass(frozen=True)
class VariantResult:
    label: str
    role: str
    path: str
    method: str
    backend: str
    num_params: int
    size_bytes: int
    latency: list[Latency]
    accuracy_frac: float
    num_test: int

    def at(self, batch_size: int) -> Latency:
        return next(lat for lat in self.latency if lat.batch_size == batch_size)


@dataclass(frozen=True)
class BenchResult:
    """Rows in the order given; ratios are against the first row (the baseline)."""

    rows: list[VariantResult]
    threads: int
    repeats: int
    dataset: str
    machine: dict[str, Any] = field(default_factory=dict)

    def ratios(self, row: VariantResult) -> dict[str, float]:
        base = self.rows[0]
        out = {"size_ratio": row.size_bytes / base.size_bytes,
               "accuracy_delta_points": 100 * (row.accuracy_frac - base.accuracy_frac)}  # fmt: skip
        for b in BATCH_SIZES:
            out[f"speedup_b{b}_ratio"] = _per_call_s(base.at(b), self.threads) / _per_call_s(
                row.at(b), self.threads
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        rows = [{**asdict(r), **self.ratios(r)} for r in self.rows]
        return {"rows": rows, "threads": self.threads, "repeats": self.repeats,
                "dataset": self.dataset, "machine": self.machine}  # fmt: skip


def _per_call_s(lat: Latency, threads: int) -> float:
    """Speed-ups use CPU time on one thread (robust to a busy machine), wall time otherwise."""
    return lat.cpu_p50_s if threads == 1 else lat.p50_s


def machine_info() -> dict[str, Any]:
    import platform

    from scalelab.compress.quantize_ort import cpu_has_vnni

    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    info["vnni"] = cpu_has_vnni()
    return info


def _tasks(variants: Sequence[Variant], dataset: str | None) -> list[TextTask]:
    """The held-out split encoded with each variant's own vocabulary (shared when equal)."""
    cache: dict[tuple[str, tuple[str, ...], int], TextTask] = {}
    out = []
    for v in variants:
        name = dataset or v.meta.dataset
        key = (name, tuple(v.meta.vocab), int(v.meta.config["max_len"]))
        if key not in cache:
            cache[key] = load_task(name, len(key[1]), key[2], Vocabulary(key[1]))
        out.append(cache[key])
    return out


def _accuracy(v: Variant, task: TextTask, batch: int = 64) -> float:
    logits = np.concatenate(
        [v.run(task.test.ids[i : i + batch]) for i in range(0, len(task.test), batch)]
    )
    return float((logits.argmax(-1) == task.test.labels.numpy()).mean())


def _time_all(
    variants: Sequence[Variant], inputs: Sequence[torch.Tensor], repeats: int, warmup: int
) -> list[list[tuple[float, float]]]:
    """(wall, thread CPU) seconds per call of variant i, `repeats` rounds over all variants."""
    for v, x in zip(variants, inputs, strict=True):
        for _ in range(warmup):
            v.run(x)
    times: list[list[tuple[float, float]]] = [[] for _ in variants]
    for _ in range(repeats):
        for i, (v, x) in enumerate(zip(variants, inputs, strict=True)):
            wall, cpu = time.perf_counter(), time.thread_time()
            v.run(x)
            times[i].append((time.perf_counter() - wall, time.thread_time() - cpu))
    return times


def bench_variants(
    variants: Sequence[Variant], repeats: int = 20, warmup: int = 3, dataset: str | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> BenchResult:  # fmt: skip
    """Accuracy on the held-out split, then latency at each batch size (real test examples)."""
    if not variants:
        raise ConfigError("bench: give at least one model")
    tasks = _tasks(variants, dataset)
    acc = []
    for v, task in zip(variants, tasks, strict=True):
        if on_stage:
            on_stage(f"accuracy: {v.label}")
        acc.append(_accuracy(v, task))
    lat: list[list[Latency]] = [[] for _ in variants]
    for b in BATCH_SIZES:
        if on_stage:
            on_stage(f"latency at batch {b}")
        inputs = [t.test.ids[:b] for t in tasks]
        for i, ts in enumerate(_time_all(variants, inputs, repeats, warmup)):
            wall, cpu = np.array([t[0] for t in ts]), np.array([t[1] for t in ts])
            pct = lambda a, q: float(np.percentile(a, q))  # noqa: E731
            lat[i].append(Latency(b, pct(wall, 50), pct(wall, 95), pct(cpu, 50)))
    rows = [
        VariantResult(v.label, str(v.meta.extra.get("role", "model")), str(v.path), v.meta.method, v.meta.backend, v.num_params, v.size_bytes,
                      lat[i], acc[i], len(tasks[i].test))
        for i, v in enumerate(variants)
    ]  # fmt: skip
    names = sorted({t.dataset for t in tasks})
    return BenchResult(rows, variants[0].threads, repeats, ",".join(names), machine_info())


def bench_paths(paths: Sequence[Path], threads: int = 1, repeats: int = 20, dataset: str | None = None,
                on_stage: Callable[[str], None] | None = None) -> BenchResult:  # fmt: skip
    return bench_variants(
        [open_variant(p, threads) for p in paths], repeats, dataset=dataset, on_stage=on_stage
    )
