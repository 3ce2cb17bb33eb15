"""Overhead of the gradient-flow diagnostics: the same training loop with and without hooks.

Blocks of `every` steps alternate (plain, hooked, plain, ...) on one model in one run, so each
hooked block holds exactly one measured step; overhead = median(hooked) / median(plain) - 1.
Times are the CPU time of the calling thread (torch runs on one thread here), so other jobs on a
shared machine do not distort the ratio; wall times are recorded beside them.
Run: .venv/bin/python benchmarks/bench_lab_diagnostics.py -> benchmarks/results/lab_diagnostics.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from scalelab.core.io import write_atomic
from scalelab.lab.data import ByteSplits, load_corpus_bytes, sample_windows
from scalelab.lab.diagnostics.gradflow import LayerMonitor
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.optim import OptimConfig, build_optimizer
from scalelab.lab.step import train_step

ROOT = Path(__file__).resolve().parents[1]
CFG = TransformerConfig(d_model=128, n_layers=4, n_heads=4, seq_len=128)


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _block(
    model, opt, batches, monitor: LayerMonitor | None, first_step: int
) -> tuple[float, float]:
    """(thread CPU seconds, wall seconds) for one block of steps."""
    c0, t0 = time.thread_time(), time.perf_counter()
    for i, batch in enumerate(batches):
        armed = monitor is not None and monitor.arm(first_step + i)
        train_step(model, batch, opt, clip_grad_norm=1.0)
        if armed and monitor is not None:
            monitor.collect()
    return time.thread_time() - c0, time.perf_counter() - t0


def measure(every: int, blocks: int, batch_size: int) -> dict[str, float]:
    torch.manual_seed(0)
    splits = ByteSplits.from_bytes(load_corpus_bytes(), 0.1, CFG.seq_len)
    model = Transformer(CFG)
    opt = build_optimizer(model, OptimConfig(lr=1e-3))
    gen = torch.Generator().manual_seed(0)
    batches = [sample_windows(splits.train, batch_size, CFG.seq_len, gen) for _ in range(every)]
    monitor = LayerMonitor([(f"block{i}", b) for i, b in enumerate(model.blocks)], every)
    for _ in range(3):  # warm-up: allocator, kernels, optimizer state
        _block(model, opt, batches, None, 1)
    plain, hooked = [], []
    for _ in range(blocks):
        plain.append(_block(model, opt, batches, None, 1))
        hooked.append(_block(model, opt, batches, monitor, 0))
    p, h = (statistics.median(c for c, _ in xs) for xs in (plain, hooked))
    pw, hw = (statistics.median(w for _, w in xs) for xs in (plain, hooked))
    return {
        "every_n_steps": every,
        "blocks": blocks,
        "plain_step_cpu_s": p / every,
        "hooked_step_cpu_s": h / every,
        "overhead_frac": h / p - 1,
        "plain_step_wall_s": pw / every,
        "hooked_step_wall_s": hw / every,
        "overhead_wall_frac": hw / pw - 1,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--blocks", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "lab_diagnostics.json"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    result = {
        "machine": machine(),
        "model": CFG.model_dump() | {"batch_size": args.batch_size},
        # Every step measured: the worst case, an upper bound for any sparser cadence.
        "every_1": measure(1, args.blocks * 4, args.batch_size),
        "every_10": measure(10, args.blocks, args.batch_size),
        "limit_overhead_frac": 0.05,
    }
    result["pass"] = all(result[k]["overhead_frac"] <= 0.05 for k in ("every_1", "every_10"))
    write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
