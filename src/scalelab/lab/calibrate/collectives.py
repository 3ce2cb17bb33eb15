"""All-reduce and all-gather among the processes of this machine (gloo on CPU, NCCL on GPU).

Bandwidths follow nccl-tests' convention: algbw = bytes / time; busbw = algbw x 2(n-1)/n for
all-reduce and x (n-1)/n for all-gather (bytes = the full output), the per-link rate a ring needs.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist

from scalelab.lab.calibrate.measure import sync

SIZES_BYTES = {
    "cpu": [1 << 12, 1 << 16, 1 << 20, 1 << 22, 1 << 24],
    "cuda": [1 << 12, 1 << 16, 1 << 20, 1 << 24, 1 << 27, 1 << 30],
}


def _record(op: str, size: int, world: int, t: float) -> dict[str, Any]:
    factor = 2 * (world - 1) / world if op == "all_reduce" else (world - 1) / world
    algbw = size / t
    return {
        "size_bytes": size,
        "num_ranks": world,
        "time_s": t,
        "algbw_bytes_per_s": algbw,
        "busbw_bytes_per_s": algbw * factor,
    }


def _timed(fn: Any, device: torch.device, repeats: int) -> float:
    """Mean seconds per call over a fixed number of calls (every rank must make the same
    calls), the slowest rank's: a collective is done when every rank is."""
    for _ in range(2):
        fn()
    sync(device)
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync(device)
    t = torch.tensor([(time.perf_counter() - t0) / repeats], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def _all_gather(out: torch.Tensor, shard: torch.Tensor) -> None:
    # torch 2.13 renamed all_gather_into_tensor to all_gather_single.
    gather = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
    gather(out, shard)


def measure_collectives(
    sizes: list[int], device: torch.device, repeats: int = 20
) -> dict[str, list[dict[str, Any]]]:
    """One record per size and collective, identical on every rank (call from all of them)."""
    world = dist.get_world_size()
    out: dict[str, list[dict[str, Any]]] = {"all_reduce": [], "all_gather": []}
    for size in sizes:
        buf = torch.ones(size // 4, dtype=torch.float32, device=device)
        t = _timed(lambda buf=buf: dist.all_reduce(buf), device, repeats)
        out["all_reduce"].append(_record("all_reduce", size, world, t))
        shard = torch.ones(size // 4 // world, dtype=torch.float32, device=device)
        full = torch.empty(shard.numel() * world, dtype=torch.float32, device=device)
        t = _timed(lambda s=shard, f=full: _all_gather(f, s), device, repeats)
        out["all_gather"].append(_record("all_gather", full.numel() * 4, world, t))
    return out
