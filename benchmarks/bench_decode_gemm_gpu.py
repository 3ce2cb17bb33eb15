"""Decode-shaped GEMMs on one CUDA GPU, warm and cold: tests the L2 term of the kernel fit.

The shared h200_kernels.json times each GEMM as one eager call repeated on the same operands without
flushing L2. The fit (perf/kernels/calibration.py) explains its skinny-GEMM records with a 50 MiB L2-warm credit
and a cold weight-streaming fraction of 0.46. This script times every decode-shaped shape of that file
(m <= 256) three ways, in the same run:
- warm: isolated eager calls timed with CUDA events, as the shared file was;
- flushed: the same, after writing a 256 MB buffer before each call (L2 cold);
- chain: a CUDA graph of GEMMs against distinct weights totalling >= 1 GB (cold, no launch gaps).
It then compares each with the model: warm = model + call overhead + L2 credit; flushed = model +
call overhead; chain = model alone. If the L2 hypothesis is right, all three agree within 25%.

Run: PYTHONPATH=src python benchmarks/bench_decode_gemm_gpu.py [--out DIR]
  -> DIR/decode_gemm_gpu.json (default benchmarks/results/)
Without CUDA it prints why and exits 0 without writing anything (never a made-up number).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from scalelab.core.catalog import load_accelerator
from scalelab.core.io import write_atomic
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS as P
from scalelab.perf.serve.ops import linear_time_s

ROOT = Path(__file__).resolve().parents[1]
DTYPES = {"gemm_bf16": torch.bfloat16}
FLUSH_BYTES = 256 * 2**20
CHAIN_BYTES = 2**30


def decode_shapes() -> list[tuple[str, int, int, int, float]]:
    """(kind, m, n, k, shared time) for every bf16 record with m <= 256 in the shipped kernel file."""
    path = resources.files("scalelab.validate") / "cases" / "h200_kernels.json"
    records = json.loads(path.read_text())["records"]
    return [
        (r["kind"], r["params"]["m"], r["params"]["n"], r["params"]["k"], r["time_s"])
        for r in records
        if r["kind"] in DTYPES and r["params"]["m"] <= 256
    ]


def _event_times(fn: Any, before: Any, repeats: int = 10, warmups: int = 3) -> float:
    """Median of `repeats` CUDA-event-timed calls of `fn`, each after `before()` (not timed)."""
    times = []
    for i in range(warmups + repeats):
        before()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        if i >= warmups:
            times.append(start.elapsed_time(end) * 1e-3)
    return statistics.median(times)


def _chain_time(m: int, n: int, k: int, dtype: torch.dtype) -> float:
    """Per-GEMM time of a CUDA graph over distinct weights (>= 1 GB in all: nothing stays in L2)."""
    count = max(8, CHAIN_BYTES // (n * k * 2))
    x = torch.randn(m, k, device="cuda", dtype=dtype)
    weights = [torch.randn(k, n, device="cuda", dtype=dtype) for _ in range(count)]
    outs = [torch.empty(m, n, device="cuda", dtype=dtype) for _ in range(count)]
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for w, o in zip(weights, outs, strict=True):  # warm-up on a side stream before capture
            torch.matmul(x, w, out=o)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for w, o in zip(weights, outs, strict=True):
            torch.matmul(x, w, out=o)
    total = _event_times(graph.replay, lambda: None, repeats=5, warmups=2)
    return total / count


def measure(shapes: list[tuple[str, int, int, int, float]]) -> list[dict[str, Any]]:
    acc = load_accelerator("h200-sxm-141gb")
    flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    rows = []
    for kind, m, n, k, shared_s in shapes:
        dtype = DTYPES[kind]
        x = torch.randn(m, k, device="cuda", dtype=dtype)
        w = torch.randn(k, n, device="cuda", dtype=dtype)
        call = functools.partial(torch.matmul, x, w)
        warm_s = _event_times(call, lambda: None)
        flushed_s = _event_times(call, flush.zero_)
        chain_s = _chain_time(m, n, k, dtype)
        cold_model = float(linear_time_s(m, n, k, "bf16", acc))
        warm_model = float(linear_time_s(m, n, k, "bf16", acc, warm_l2_bytes=P.bench_l2_warm_bytes))
        predicted = {
            "warm_s": warm_model + P.single_call_overhead_s,
            "flushed_s": cold_model + P.single_call_overhead_s,
            "chain_s": cold_model,
        }
        measured = {"warm_s": warm_s, "flushed_s": flushed_s, "chain_s": chain_s}
        rows.append(
            {
                "kind": kind,
                "m": m,
                "n": n,
                "k": k,
                "shared_file_s": shared_s,
                "measured": measured,
                "predicted": predicted,
                "rel_error": {key: predicted[key] / measured[key] - 1.0 for key in measured},
                "cold_stream_frac_of_hbm": (k * n + m * k + m * n)
                * 2
                / chain_s
                / acc.hbm_bandwidth_bytes_per_s,
            }
        )
        print(
            f"{m}x{n}x{k}: warm {warm_s * 1e6:.1f} us, flushed {flushed_s * 1e6:.1f} us, "
            f"chain {chain_s * 1e6:.1f} us; errors "
            + ", ".join(f"{key} {v:+.0%}" for key, v in rows[-1]["rel_error"].items())
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("bench_decode_gemm_gpu: no CUDA device here; nothing measured, nothing written.")
        return 0
    rows = measure(decode_shapes())
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(),
        "l2_cache_bytes": torch.cuda.get_device_properties(0).L2_cache_size,
        "fitted_l2_warm_bytes": P.bench_l2_warm_bytes,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "method": "median of 10 event-timed calls after 3 warm-ups (warm, flushed); CUDA graph over "
        ">= 1 GB of distinct weights, median of 5 replays (chain)",
        "rows": rows,
        "within_25_percent": {
            key: all(abs(r["rel_error"][key]) <= 0.25 for r in rows)
            for key in ("warm_s", "flushed_s", "chain_s")
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "decode_gemm_gpu.json", json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc["within_25_percent"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
