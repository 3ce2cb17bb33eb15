"""Kernel-efficiency parameters fitted on real H200 timings (`h200_kernels.json`, `h200_micro.json`).

The fitted values are stored as literals in `H200_KERNEL_PARAMS` so that the analytic model needs no data
file at run time; `fit_kernel_params` recomputes them from the two JSON documents (tests check that the
literals match a fresh fit). Only kernel measurements are used here, never a validation case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelab.perf.kernels.tiles import effective_gemm_flops

H200_PEAK_FLOPS_PER_S = {"bf16": 989.4e12, "fp8": 1978.9e12, "tf32": 494.7e12, "fp32": 66.9e12}
H200_HBM_BYTES_PER_S = 4.8e12  # NVIDIA H200 datasheet
H200_NUM_SMS = 132
# L2 of the H200: 60 MiB, as torch.cuda.get_device_properties().L2_cache_size reports it on this
# workplace's H200 (device KINDS notes, 2026-10-28; the full GH100 die has 60 MB, H100 SXM enables 50 MB).
# Upper bound of the operand bytes a benchmark repeating one GEMM can find still cached (no L2 flush).
H200_L2_BYTES = 60 * 2**20
_DTYPE_BYTES = {"bf16": 2.0, "fp8": 1.0, "tf32": 4.0, "fp32": 4.0}


@dataclass(frozen=True)
class KernelParams:
    """Device-independent kernel-efficiency constants (fractions of the device's own peaks)."""

    gemm_frac: dict[str, float]  # large-GEMM fraction of the dtype's dense peak
    gemm_memory_frac: float  # fraction of HBM bandwidth a weight-streaming single GEMM reaches
    grouped_gemm_memory_frac: float  # the same for a batched/grouped GEMM (many groups, one launch)
    kernel_floor_s: (
        float  # GPU time floor per kernel (fill/drain), from GEMMs replayed in a CUDA graph
    )
    single_call_overhead_s: (
        float  # event-timing overhead of an isolated eager call (fit nuisance only)
    )
    micro_wall_overhead_s: (
        float  # wall-clock + synchronize overhead of h200_micro records (fit nuisance)
    )
    eager_launch_s: float  # host launch cost per kernel in eager PyTorch
    graph_launch_s: float  # per-kernel cost of a tiny kernel replayed in a CUDA graph
    copy_frac: float  # fraction of HBM bandwidth a large device-to-device copy reaches
    elementwise_frac: dict[str, float]  # effective bandwidth fraction per memory-bound op class
    attn_fwd_frac: float  # flash attention forward: asymptotic fraction of the bf16 peak
    attn_fwd_seq_half: float  # sequence length at which forward efficiency is half its asymptote
    attn_fwdbwd_frac: float  # forward+backward: asymptotic fraction
    attn_fwdbwd_seq_half: float
    attn_fwd_head_dim_half: float  # head dimension at which forward efficiency is half
    attn_fwdbwd_head_dim_half: float
    bench_l2_warm_bytes: (
        float  # operand bytes a benchmark repeating one GEMM finds in L2 (fit nuisance)
    )
    fit_rms_log_error: float  # root-mean-square log error of the GEMM fit (for docs)


# Rounded output of fit_kernel_params() on shared/validation/h200_*.json (2026-11-30 measurements).
H200_KERNEL_PARAMS = KernelParams(
    gemm_frac={"bf16": 0.76, "fp8": 0.68, "tf32": 0.85, "fp32": 0.78},
    gemm_memory_frac=0.46,
    grouped_gemm_memory_frac=0.94,
    kernel_floor_s=2.25e-6,
    single_call_overhead_s=27e-6,
    micro_wall_overhead_s=22e-6,
    eager_launch_s=15.4e-6,
    graph_launch_s=2.2e-6,
    copy_frac=0.87,
    elementwise_frac={"norm": 0.66, "act": 0.23, "softmax": 0.30, "add": 0.87},
    attn_fwd_frac=0.90,
    attn_fwd_seq_half=850.0,
    attn_fwdbwd_frac=1.0,
    attn_fwdbwd_seq_half=1650.0,
    attn_fwd_head_dim_half=40.0,
    attn_fwdbwd_head_dim_half=75.0,
    bench_l2_warm_bytes=50 * 2**20,
    fit_rms_log_error=0.10,
)


def _gemm_records(
    kernels: dict[str, Any], micro: dict[str, Any]
) -> list[tuple[str, int, int, int, float, int]]:
    """(dtype, m, n, k, seconds, is_single_call) for every GEMM timing."""
    recs = []
    for r in kernels["records"]:
        if r["kind"].startswith("gemm_"):
            p = r["params"]
            recs.append((r["kind"][5:], p["m"], p["n"], p["k"], float(r["time_s"]), 1))
    for r in micro["records"]:
        if r["kind"] == "gemm_chain_graph":
            p = r["params"]
            recs.append(("bf16", p["m"], p["n"], p["k"], float(r["per_item_s"]), 0))
    return recs


def _gemm_arrays(recs: list[tuple[str, int, int, int, float, int]]) -> dict[str, np.ndarray]:
    dt = [r[0] for r in recs]
    m, n, k = (np.array([r[i] for r in recs], dtype=float) for i in (1, 2, 3))
    return {
        "flops": effective_gemm_flops(m, n, k, 1.0, H200_NUM_SMS),
        "bytes": (m * k + k * n + m * n) * np.array([_DTYPE_BYTES[d] for d in dt]),
        "peak": np.array([H200_PEAK_FLOPS_PER_S[d] for d in dt]),
        "time": np.array([r[4] for r in recs]),
        "single": np.array([r[5] for r in recs], dtype=float),
        "dtype": np.array(dt),
    }


def _fit_gemm(
    recs: list[tuple[str, int, int, int, float, int]],
) -> tuple[dict[str, float], float, float, float, float, float]:
    """Grid search in log-time: call overhead, kernel floor, L2-warm bytes, memory fraction; per-dtype
    peak fraction. Model: t = call*single + floor + max(flops / (frac * peak * wave),
    max(bytes - warm, 0) / (mem_frac * hbm)). Every record repeats one GEMM on the same operands without
    flushing L2, so some of them are still cached (`warm`, at most the L2: H200_L2_BYTES)."""
    a = _gemm_arrays(recs)
    fracs = np.round(np.arange(0.30, 1.001, 0.01), 2)[:, None, None]  # [F, 1, 1]
    mems = np.round(np.arange(0.30, 1.001, 0.02), 2)[None, :, None]  # [1, M, 1]
    comp_t = a["flops"] / (fracs * a["peak"])  # [F, 1, R]
    best: tuple[float, dict[str, float], float, float, float, float] | None = None
    for warm in np.linspace(0.0, H200_L2_BYTES, 13):
        mem_t = np.maximum(a["bytes"] - warm, 0.0) / (mems * H200_HBM_BYTES_PER_S)  # [1, M, R]
        roof = np.maximum(comp_t, mem_t)  # [F, M, R]
        for call_s in np.arange(10e-6, 35e-6, 1e-6):
            for floor_s in np.arange(0.0, 5e-6, 0.25e-6):
                sq = np.log((call_s * a["single"] + floor_s + roof) / a["time"]) ** 2  # [F, M, R]
                per = {
                    dt: sq[:, :, a["dtype"] == dt].sum(axis=2) for dt in H200_PEAK_FLOPS_PER_S
                }  # [F, M]
                best_f = {dt: e.min(axis=0) for dt, e in per.items()}  # [M]
                total = sum(best_f.values())
                j = int(np.argmin(total))
                if best is None or total[j] < best[0]:
                    chosen = {dt: float(fracs[int(np.argmin(per[dt][:, j])), 0, 0]) for dt in per}
                    best = (
                        float(total[j]),
                        chosen,
                        float(mems[0, j, 0]),
                        float(call_s),
                        float(floor_s),
                        float(warm),
                    )
    assert best is not None
    total_err, per_dtype, mem_frac, call_s, floor_s, warm = best
    return per_dtype, mem_frac, call_s, floor_s, warm, float(np.sqrt(total_err / len(recs)))


def _moe_bmm_gemms(p: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    """(groups, m, n, k) of the two expert GEMMs of an h200_micro moe_* record (W1: d -> 2 ffn, W2: ffn -> d)."""
    e, t, d, f = (float(p[x]) for x in ("experts", "tokens_per_expert", "d", "ffn"))
    return [(e, t, 2.0 * f, d), (e, t, d, f)]


def _fit_grouped_memory(
    micro: dict[str, Any], bf16_frac: float, floor_s: float, wall_s: float, warm: float, act: float
) -> float:
    """HBM fraction of a batched expert GEMM, from the moe_bmm records (torch.bmm over E experts):
    t = wall + SwiGLU + sum over W1, W2 of floor + max(compute, max(bytes - warm, 0) / (frac * hbm))."""
    recs = [r for r in micro["records"] if r["kind"] == "moe_bmm"]
    fracs = np.round(np.arange(0.30, 1.001, 0.01), 2)
    err = np.zeros_like(fracs)
    for r in recs:
        p = r["params"]
        t = wall_s + 3.0 * p["experts"] * p["tokens_per_expert"] * p["ffn"] * 2.0 / (
            act * H200_HBM_BYTES_PER_S
        )  # SwiGLU reads 2 ffn and writes ffn bf16 values per token
        for g, m, n, k in _moe_bmm_gemms(p):
            flops = effective_gemm_flops(m, n, k, g, H200_NUM_SMS)
            comp = flops / (bf16_frac * H200_PEAK_FLOPS_PER_S["bf16"])
            nbytes = g * (m * k + k * n + m * n) * _DTYPE_BYTES["bf16"]
            t = (
                t
                + floor_s
                + np.maximum(comp, max(nbytes - warm, 0.0) / (fracs * H200_HBM_BYTES_PER_S))
            )
        err += np.log(t / float(r["time_s"])) ** 2
    return float(fracs[int(np.argmin(err))])


def _fit_attention(
    kernels: dict[str, Any], kind: str, call_s: float, floor_s: float
) -> tuple[float, float, float]:
    """Asymptotic fraction, seq half-point and head-dim half-point of flash attention:
    eff = frac * s / (s + s_half) * d / (d + d_half) (causal diagonal tiles and short heads waste work)."""
    recs = [r for r in kernels["records"] if r["kind"] == kind]
    s = np.array([r["params"]["s"] for r in recs], dtype=float)
    d = np.array([r["params"]["d"] for r in recs], dtype=float)
    flops = np.array([r["flops"] for r in recs], dtype=float)
    t = np.array([r["time_s"] for r in recs], dtype=float)
    frac = np.arange(0.40, 1.001, 0.02)[:, None, None, None]
    s_half = np.arange(0.0, 4001.0, 50.0)[None, :, None, None]
    d_half = np.arange(0.0, 201.0, 5.0)[None, None, :, None]
    eff = frac * s / (s + s_half) * d / (d + d_half)
    err = (np.log((call_s + floor_s + flops / (eff * H200_PEAK_FLOPS_PER_S["bf16"])) / t) ** 2).sum(
        axis=3
    )
    i, j, k = np.unravel_index(int(np.argmin(err)), err.shape)
    return float(frac[i, 0, 0, 0]), float(s_half[0, j, 0, 0]), float(d_half[0, 0, k, 0])


_ELEMENTWISE_KINDS = {"norm": "rmsnorm", "act": "swiglu", "softmax": "softmax_fp32", "add": "add"}


def _fit_elementwise(micro: dict[str, Any]) -> tuple[float, dict[str, float]]:
    """Wall-clock overhead shared by the micro records and one bandwidth fraction per op class:
    t = overhead + bytes / (frac * HBM), least squares in log-time."""
    recs = [r for r in micro["records"] if r["kind"] in _ELEMENTWISE_KINDS.values()]
    nbytes = np.array([r["bytes"] for r in recs], dtype=float)
    t = np.array([r["time_s"] for r in recs], dtype=float)
    kinds = np.array([r["kind"] for r in recs])
    fracs = np.round(np.arange(0.10, 1.601, 0.01), 2)[:, None]
    best: tuple[float, float, dict[str, float]] | None = None
    for overhead in np.arange(0.0, 60e-6, 1e-6):
        sq = np.log((overhead + nbytes / (fracs * H200_HBM_BYTES_PER_S)) / t) ** 2  # [F, R]
        chosen, total = {}, 0.0
        for cls, kind in _ELEMENTWISE_KINDS.items():
            err = sq[:, kinds == kind].sum(axis=1)
            chosen[cls] = float(fracs[int(np.argmin(err)), 0])
            total += float(err.min())
        if best is None or total < best[0]:
            best = (total, float(overhead), chosen)
    assert best is not None
    return best[1], best[2]


def fit_kernel_params(kernels: dict[str, Any], micro: dict[str, Any]) -> KernelParams:
    """Fit every KernelParams field from the two H200 JSON documents (takes a few seconds)."""
    gemm_frac, mem_frac, call_s, floor_s, warm, rms = _fit_gemm(_gemm_records(kernels, micro))
    fwd = _fit_attention(kernels, "sdpa_fwd", call_s, floor_s)
    fwdbwd = _fit_attention(kernels, "sdpa_fwdbwd", call_s, floor_s)
    copies = sorted(
        (r for r in kernels["records"] if r["kind"] == "copy"), key=lambda r: r["bytes"]
    )
    copy_frac = float(
        np.mean([r["bytes"] / r["time_s"] / H200_HBM_BYTES_PER_S for r in copies[-2:]])
    )
    by_kind = {r["kind"]: r for r in micro["records"] if r["params"].get("m") == 64}
    wall_s, elementwise = _fit_elementwise(micro)
    # `add` fits above the HBM bandwidth, so the benchmark's byte count overstates its traffic
    # (operands read once, output written once is an upper bound): cap at the copy fraction.
    elementwise["add"] = min(elementwise["add"], copy_frac)
    grouped = _fit_grouped_memory(
        micro, gemm_frac["bf16"], floor_s, wall_s, warm, elementwise["act"]
    )
    return KernelParams(
        gemm_frac=gemm_frac,
        gemm_memory_frac=mem_frac,
        grouped_gemm_memory_frac=grouped,
        kernel_floor_s=floor_s,
        single_call_overhead_s=call_s,
        micro_wall_overhead_s=wall_s,
        eager_launch_s=float(by_kind["gemm_chain_eager"]["per_item_s"]),
        graph_launch_s=float(by_kind["gemm_chain_graph"]["per_item_s"]),
        copy_frac=copy_frac,
        elementwise_frac=elementwise,
        attn_fwd_frac=fwd[0],
        attn_fwd_seq_half=fwd[1],
        attn_fwdbwd_frac=fwdbwd[0],
        attn_fwdbwd_seq_half=fwdbwd[1],
        attn_fwd_head_dim_half=fwd[2],
        attn_fwdbwd_head_dim_half=fwdbwd[2],
        bench_l2_warm_bytes=warm,
        fit_rms_log_error=rms,
    )
