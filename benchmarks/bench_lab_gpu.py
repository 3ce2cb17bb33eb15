"""Lab training throughput on one CUDA GPU: tokens/s and MFU of a ~1B-parameter byte-level
transformer in bf16, our `train_step` against a bare PyTorch loop on the same model, same run.

Run: .venv/bin/python benchmarks/bench_lab_gpu.py  ->  benchmarks/results/lab_gpu.json
Without CUDA it prints why and exits 0 without writing anything (never a made-up number).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import torch
import torch.nn.functional as F

from scalelab.core.catalog import load_accelerator
from scalelab.core.io import write_atomic
from scalelab.lab.diagnostics.gradflow import LayerMonitor
from scalelab.lab.models.transformer import Transformer, TransformerConfig, flops_per_token
from scalelab.lab.optim import OptimConfig, build_optimizer
from scalelab.lab.step import train_step

ROOT = Path(__file__).resolve().parents[1]
# 20 x (4 d^2 + 3 d ffn) with d = 2048, ffn = 5461: 1.007e9 parameters.
CONFIG_1B = TransformerConfig(d_model=2048, n_layers=20, n_heads=16, seq_len=2048, mlp="swiglu")
# Device-name fragment -> catalog id, for the bf16 dense peak (datasheet values, with sources).
CATALOG_BY_NAME = {"H200": "h200-sxm-141gb", "H100": "h100-sxm5-80gb", "H800": "h800-sxm5-80gb",
                   "A100": "a100-sxm4-80gb", "B200": "b200"}  # fmt: skip


def peak_bf16_flops_per_s(device_name: str, accelerator: str | None) -> tuple[float, str] | None:
    catalog_id = accelerator or next(
        (v for k, v in CATALOG_BY_NAME.items() if k in device_name), None
    )
    if catalog_id is None:
        return None
    return load_accelerator(catalog_id).peak_bf16_flops_per_s, catalog_id


def _timed(fn: Callable[[], object], steps: int) -> float:
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def loops(
    model: torch.nn.Module, opt: torch.optim.Optimizer, batch
) -> dict[str, Callable[[], object]]:
    x, y = batch

    def bare() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x).flatten(0, 1).float(), y.flatten())
        loss.backward()
        opt.step()

    def ours() -> None:
        train_step(model, batch, opt, clip_grad_norm=1.0, dtype=torch.bfloat16)

    monitor = LayerMonitor([(f"block{i}", b) for i, b in enumerate(model.blocks)], every_n_steps=10)
    counter = iter(range(10**9))

    def ours_with_diagnostics() -> None:
        armed = monitor.arm(next(counter))
        ours()
        if armed:
            monitor.collect()

    return {
        "bare_pytorch": bare,
        "scalelab_train_step": ours,
        "scalelab_with_diagnostics_every_10": ours_with_diagnostics,
    }


def measure(
    cfg: TransformerConfig, batch_size: int, steps: int, rounds: int, peak: float | None
) -> dict:
    """Median seconds per step of each loop over `rounds` interleaved rounds of `steps` steps."""
    torch.manual_seed(0)
    model = Transformer(cfg).cuda()
    opt = build_optimizer(model, OptimConfig(lr=1e-4, weight_decay=0.1))
    x = torch.randint(0, cfg.vocab_size, (batch_size, cfg.seq_len + 1), device="cuda")
    fns = loops(model, opt, (x[:, :-1], x[:, 1:]))
    for fn in fns.values():  # warm-up: kernels, allocator, optimizer state
        _timed(fn, 3)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(_timed(fn, steps))
    tokens = batch_size * cfg.seq_len
    out: dict[str, object] = {"num_params": model.num_params(), "tokens_per_step": tokens,
                              "train_flops_per_token": flops_per_token(cfg),
                              "max_memory_allocated_bytes": torch.cuda.max_memory_allocated()}  # fmt: skip
    for name, ts in times.items():
        step_s = statistics.median(ts)
        tps = tokens / step_s
        out[name] = {"step_s": step_s, "tokens_per_s": tps,
                     "mfu_frac": flops_per_token(cfg) * tps / peak if peak else None}  # fmt: skip
    bare = out["bare_pytorch"]["tokens_per_s"]  # type: ignore[index]
    out["scalelab_over_bare_ratio"] = out["scalelab_train_step"]["tokens_per_s"] / bare  # type: ignore[index]
    return out


def environment() -> dict[str, object]:
    props = torch.cuda.get_device_properties(0)
    return {"device": props.name, "capability": f"{props.major}.{props.minor}",
            "memory_bytes": props.total_memory, "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "python": sys.version.split()[0],
            "platform": platform.platform(), "date": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--accelerator", help="catalog id for the peak FLOP/s (default: from the device name)"
    )
    ap.add_argument(
        "--small", action="store_true", help="a 4-layer d=1024 model, for a quick check"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "lab_gpu.json")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print(
            "bench_lab_gpu: CUDA is not available on this machine; nothing measured, nothing written."
        )
        return None
    env = environment()
    peak = peak_bf16_flops_per_s(str(env["device"]), args.accelerator)
    cfg = (
        TransformerConfig(d_model=1024, n_layers=4, n_heads=8, seq_len=1024)
        if args.small
        else CONFIG_1B
    )
    result = {"environment": env, "config": cfg.model_dump(), "batch_size": args.batch_size,
              "peak_bf16_flops_per_s": peak[0] if peak else None, "peak_source": peak[1] if peak else None,
              **measure(cfg, args.batch_size, args.steps, args.rounds, peak[0] if peak else None)}  # fmt: skip
    if not args.small:
        write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    res = main(sys.argv[1:])
    if res is not None:
        print(json.dumps(res, indent=2))
