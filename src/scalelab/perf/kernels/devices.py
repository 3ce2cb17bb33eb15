"""Kernel efficiency of a device that was not measured here: the H200 fit, rescaled by the device's
own published kernel measurements.

Every device gets the shape of the H200 curves (tile and wave quantization, per-kernel floor,
weight streaming, flash attention vs sequence length and head dimension, memory-bound classes) and
its own level, from rates measured the same way on both devices:
- GEMM fraction of peak per dtype x MAMF_frac(device) / MAMF_frac(H200), where MAMF is the maximum
  achievable matmul FLOP/s of one benchmark (ml-engineering's mamf-finder) on both; tf32/fp32 use
  the bf16 ratio, fp8 falls back to it where the device has no fp8 figure;
- flash attention x (measured forward rate at the reference shape) / (the H200 fit's rate there).
A device without such figures keeps the H200 fractions (its catalog entry says so). Memory-bound
fractions, floors and launch costs are the H200's for every device (assumption).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from scalelab.core.specs import AcceleratorSpec
from scalelab.perf.kernels.calibration import (
    H200_KERNEL_PARAMS,
    H200_PEAK_FLOPS_PER_S,
    KernelParams,
)

# The H200's MAMF (Bekman, ml-engineering compute/accelerator/README.md: H100/H200 SXM bf16 794.5,
# H200 SXM fp8 1453.4 TFLOP/s), the reference the ratios are taken against.
H200_MAMF_FLOPS_PER_S = {"bf16": 794.5e12, "fp8": 1453.4e12}
# Reference shape of `flash_fwd_flops_per_s`: batch 1, 32 heads, seq 4096, head dim 128, causal.
FLASH_REF_SHAPE = (1.0, 32.0, 4096.0, 128.0)
# A rescaled fraction never exceeds this share of the dense peak.
MAX_FRAC = 0.98


def _mamf_ratio(mamf: float, peak: float, dtype: str) -> float | None:
    """MAMF/peak of a device over MAMF/peak of the H200 for `dtype` (None if not published)."""
    if not mamf or not peak:
        return None
    return (mamf / peak) / (H200_MAMF_FLOPS_PER_S[dtype] / H200_PEAK_FLOPS_PER_S[dtype])


def _flash_fwd_eff(params: KernelParams) -> float:
    """Fraction of the bf16 peak the fitted flash-attention forward reaches at the reference shape."""
    s, d = FLASH_REF_SHAPE[2], FLASH_REF_SHAPE[3]
    return (
        params.attn_fwd_frac
        * s
        / (s + params.attn_fwd_seq_half)
        * d
        / (d + params.attn_fwd_head_dim_half)
    )


def device_kernel_params(acc: AcceleratorSpec) -> KernelParams:
    """KernelParams of a datasheet device: the H200 fit rescaled by its published measurements."""
    return _rescaled(
        acc.matmul_bf16_flops_per_s or 0.0,
        acc.matmul_fp8_flops_per_s or 0.0,
        acc.flash_fwd_flops_per_s or 0.0,
        acc.peak_bf16_flops_per_s,
        acc.peak_fp8_flops_per_s or 0.0,
    )


@lru_cache(maxsize=64)
def _rescaled(
    mamf_bf16: float, mamf_fp8: float, flash_fwd: float, peak_bf16: float, peak_fp8: float
) -> KernelParams:
    base = H200_KERNEL_PARAMS
    bf16 = _mamf_ratio(mamf_bf16, peak_bf16, "bf16")
    fp8 = _mamf_ratio(mamf_fp8, peak_fp8, "fp8") or bf16
    if bf16 is None and not flash_fwd:
        return base
    ratio = {"bf16": bf16 or 1.0, "fp8": fp8 or 1.0, "tf32": bf16 or 1.0, "fp32": bf16 or 1.0}
    fracs = {k: float(np.clip(v * ratio[k], 0.05, MAX_FRAC)) for k, v in base.gemm_frac.items()}
    attn = flash_fwd / peak_bf16 / _flash_fwd_eff(base) if flash_fwd else 1.0
    return replace(
        base,
        gemm_frac=fracs,
        attn_fwd_frac=base.attn_fwd_frac * attn,
        attn_fwdbwd_frac=base.attn_fwdbwd_frac * attn,
    )
