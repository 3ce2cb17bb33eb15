"""Kernel parameters of a device: its datasheet curves (perf/kernels/devices.py) by default, or a
machine's own measurements.

`scalelab calibrate` writes a profile whose peaks are *achieved* rates (best GEMM, copy bandwidth)
and whose `[measured]` table holds per-shape timings. Such a device gets KernelParams derived from
those timings, so that the same operator model predicts a step on the machine that was measured:
- GEMM fraction per dtype: median rate of the larger half of the measured shapes (by FLOPs), over
  the profile's peak; dtypes not measured take the mean of those that were.
- per-kernel floor and host launch cost: the measured cost of one tiny eager op;
- copy fraction 1.0 and weight-streaming GEMMs at the full measured bandwidth (the profile's
  bandwidth already is an achieved copy rate); norms, activations, softmax and adds at their
  measured rate relative to that copy;
- attention: the measured forward and forward+backward rates (no size dependence).
"""

from __future__ import annotations

import json
from functools import lru_cache
from statistics import mean, median
from typing import Any

from scalelab.core.specs import AcceleratorSpec
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS, KernelParams
from scalelab.perf.kernels.devices import device_kernel_params

_GEMM_KEYS = ("bf16", "fp8", "tf32", "fp32")


def kernel_params_for(acc: AcceleratorSpec) -> KernelParams:
    """The KernelParams every kernel-time function uses for `acc`: its own measured profile, else
    the H200 fit rescaled by the device's published kernel rates (perf/kernels/devices.py)."""
    if not acc.measured.get("gemm"):
        return device_kernel_params(acc)
    return _from_measured(
        acc.id, json.dumps(acc.measured, sort_keys=True, default=str), _peaks(acc)
    )


def _peaks(acc: AcceleratorSpec) -> tuple[tuple[str, float], ...]:
    return tuple((d, acc.peak_flops_per_s(d)) for d in _GEMM_KEYS)


@lru_cache(maxsize=32)
def _from_measured(
    acc_id: str, measured_json: str, peaks: tuple[tuple[str, float], ...]
) -> KernelParams:
    measured: dict[str, Any] = json.loads(measured_json)
    peak = dict(peaks)
    fracs = _gemm_fracs(measured["gemm"], peak)
    overhead = float(measured.get("op_overhead_s", 0.0))
    fwd, both = _attention_fracs(measured.get("attention", []), peak["bf16"], peak["fp32"])
    return KernelParams(
        gemm_frac=fracs,
        gemm_memory_frac=1.0,
        grouped_gemm_memory_frac=1.0,
        kernel_floor_s=overhead,
        single_call_overhead_s=0.0,
        micro_wall_overhead_s=0.0,
        eager_launch_s=overhead,
        graph_launch_s=overhead,
        copy_frac=1.0,
        elementwise_frac=_elementwise_fracs(measured.get("memory", [])),
        attn_fwd_frac=fwd,
        attn_fwd_seq_half=0.0,
        attn_fwdbwd_frac=both,
        attn_fwdbwd_seq_half=0.0,
        attn_fwd_head_dim_half=0.0,
        attn_fwdbwd_head_dim_half=0.0,
        bench_l2_warm_bytes=0.0,
        fit_rms_log_error=float("nan"),
    )


def _gemm_fracs(records: list[dict[str, Any]], peak: dict[str, float]) -> dict[str, float]:
    """Median achieved fraction of the dtype's peak over the larger half of the measured shapes."""
    fracs: dict[str, float] = {}
    for dtype in _GEMM_KEYS:
        recs = sorted(
            (r for r in records if r.get("dtype") == dtype), key=lambda r: r["m"] * r["n"] * r["k"]
        )
        large = recs[len(recs) // 2 :]
        if large:
            fracs[dtype] = median(float(r["flops_per_s"]) for r in large) / peak[dtype]
    fallback = mean(fracs.values())
    return {d: fracs.get(d, fallback) for d in _GEMM_KEYS}


def _elementwise_fracs(records: list[dict[str, Any]]) -> dict[str, float]:
    """Each memory-bound op class at its measured rate relative to the measured copy (1.0 if not
    measured): on CPUs norms and activations reach only a fraction of the copy bandwidth."""
    copy = [float(r["bytes_per_s"]) for r in records if r.get("op") == "copy"]
    fracs = {}
    for op in ("norm", "act", "softmax", "add"):
        rates = [float(r["bytes_per_s"]) for r in records if r.get("op") == op]
        fracs[op] = median(rates) / median(copy) if rates and copy else 1.0
    return fracs


def _attention_fracs(
    records: list[dict[str, Any]], peak_bf16: float, peak_fp32: float
) -> tuple[float, float]:
    """Achieved attention rates as fractions of the bf16 peak (which attention_time_s divides by);
    forward+backward counts 3.5x the forward FLOPs (FlashAttention-2 Sec 3.2, as kernels.py)."""
    if not records:
        return H200_KERNEL_PARAMS.attn_fwd_frac, H200_KERNEL_PARAMS.attn_fwdbwd_frac
    fwd = median(r["fwd_flops"] / r["fwd_time_s"] for r in records) / peak_bf16
    both = median(3.5 * r["fwd_flops"] / r["fwd_bwd_time_s"] for r in records) / peak_bf16
    return fwd, both
