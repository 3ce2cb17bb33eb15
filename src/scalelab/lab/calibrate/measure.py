"""Timings of one device: dense GEMMs over shapes, memory bandwidth (a large copy), fused
attention forward and forward+backward, and the fixed host cost of one small eager op.

Each number is the median over repeats after warm-up; CUDA timings synchronize the device.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
GEMM_SHAPES = {
    # (m, n, k): squares, then token x out x in shapes of small transformers.
    "cpu": [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048)]
    + [(2048, 256, 256), (2048, 768, 256), (2048, 256, 768), (4096, 512, 512)],
    "cuda": [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192)]
    + [(8192, 2048, 2048), (8192, 6144, 2048), (8192, 2048, 6144), (16384, 8192, 8192)],
}
ATTENTION_SHAPES = {
    # (batch, heads, seq, head_dim)
    "cpu": [(4, 4, 128, 32), (8, 4, 128, 64), (8, 8, 256, 64)],
    "cuda": [(8, 16, 1024, 128), (4, 16, 4096, 128), (1, 32, 8192, 128)],
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(
    fn: Callable[[], Any],
    device: torch.device,
    min_time_s: float = 0.2,
    min_repeats: int = 3,
    max_repeats: int = 200,
) -> float:
    """Median seconds of one call of `fn`, after two warm-up calls."""
    for _ in range(2):
        fn()
    sync(device)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats and (
        len(times) < min_repeats or time.perf_counter() - start < min_time_s
    ):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_gemm(
    shapes: list[tuple[int, int, int]], dtype: str, device: torch.device, min_time_s: float
) -> list[dict[str, Any]]:
    """(m x k) @ (k x n) in `dtype`: one record per shape with time_s and flops_per_s."""
    records = []
    for m, n, k in shapes:
        a = torch.randn(m, k, device=device).to(DTYPES[dtype])
        b = torch.randn(k, n, device=device).to(DTYPES[dtype])
        c = torch.empty(m, n, device=device, dtype=DTYPES[dtype])
        t = time_call(lambda a=a, b=b, c=c: torch.mm(a, b, out=c), device, min_time_s)
        records.append(
            {"dtype": dtype, "m": m, "n": n, "k": k, "time_s": t, "flops_per_s": 2 * m * n * k / t}
        )
    return records


def measure_memory(num_bytes: int, device: torch.device, min_time_s: float) -> dict[str, Any]:
    """A device-to-device copy of `num_bytes`: read + write = 2 x num_bytes moved."""
    src = torch.empty(num_bytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    t = time_call(lambda: dst.copy_(src), device, min_time_s)
    return {"op": "copy", "size_bytes": num_bytes, "time_s": t, "bytes_per_s": 2 * num_bytes / t}


def _elementwise_ops(x: torch.Tensor, y: torch.Tensor) -> dict[str, tuple[Any, int]]:
    """op class -> (call, tensors of x's size moved): the classes of perf.kernels' memory-bound ops."""
    w = torch.ones(x.shape[-1], dtype=x.dtype, device=x.device)
    return {
        "add": (lambda: torch.add(x, y), 3),
        "act": (lambda: F.silu(x), 2),
        "norm": (lambda: F.rms_norm(x, (x.shape[-1],), w), 2),
        "softmax": (lambda: torch.softmax(x, -1), 2),
    }


def measure_elementwise(
    num_bytes: int, dtype: str, device: torch.device, min_time_s: float
) -> list[dict[str, Any]]:
    """Memory-bound op classes (add, activation, RMS norm, softmax) on rows of 2048: bytes read +
    written per second, to compare with the copy bandwidth."""
    rows = max(1, num_bytes // (2048 * torch.finfo(DTYPES[dtype]).bits // 8))
    x, y = (torch.randn(rows, 2048, device=device).to(DTYPES[dtype]) for _ in range(2))
    size = x.numel() * x.element_size()
    records = []
    for op, (fn, tensors) in _elementwise_ops(x, y).items():
        t = time_call(fn, device, min_time_s)
        records.append(
            {"op": op, "dtype": dtype, "size_bytes": size, "time_s": t,
             "bytes_per_s": tensors * size / t}
        )  # fmt: skip
    return records


def _attention_times(
    b: int, h: int, s: int, d: int, dtype: str, device: torch.device, min_time_s: float
) -> tuple[float, float]:
    q, k, v = (
        torch.randn(b, h, s, d, device=device, dtype=DTYPES[dtype], requires_grad=True)
        for _ in range(3)
    )

    def fwd() -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    def fwd_bwd() -> None:
        fwd().sum().backward()

    return time_call(fwd, device, min_time_s), time_call(fwd_bwd, device, min_time_s)


def measure_attention(
    shapes: list[tuple[int, int, int, int]], dtype: str, device: torch.device, min_time_s: float
) -> list[dict[str, Any]]:
    """Causal scaled-dot-product attention forward, and forward + backward, per shape."""
    records = []
    for b, h, s, d in shapes:
        fwd, both = _attention_times(b, h, s, d, dtype, device, min_time_s)
        records.append(
            {
                "dtype": dtype,
                "batch": b,
                "heads": h,
                "seq": s,
                "head_dim": d,
                "causal": True,
                "fwd_flops": 2.0 * b * h * s * s * (d + d) * 0.5,  # QK^T and PV, causal half
                "fwd_time_s": fwd,
                "fwd_bwd_time_s": both,
            }
        )
    return records


def measure_op_overhead(device: torch.device, min_time_s: float) -> float:
    """Seconds of one tiny eager op (an add of 8 numbers): the per-kernel floor of eager PyTorch."""
    x = torch.ones(8, device=device)
    ops = 100

    def many() -> None:
        for _ in range(ops):
            torch.add(x, x)

    return time_call(many, device, min_time_s) / ops
