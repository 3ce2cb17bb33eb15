"""Time of one kernel on one device: roofline with a per-kernel floor and measured efficiencies.

Every function accepts numpy arrays (broadcast) or floats and returns seconds. Efficiencies are
fractions of the device's *own* peak FLOP/s and HBM bandwidth, fitted once on H200 measurements
(`perf/kernels/calibration.py`). Other devices are derived by one rule: the same fractions and the same
per-kernel floor applied to their datasheet peak and bandwidth (A100/H100/H800 share the kernel
libraries and tensor-core design; the H200 fit was power-capped at 700 W like H100/H800 SXM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import AcceleratorSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS, KernelParams
from scalelab.perf.kernels.measured import kernel_params_for
from scalelab.perf.kernels.tiles import effective_gemm_flops

Array = NDArray[np.float64]

# Which fitted GEMM fraction applies to a dtype the kernel data did not measure.
_FRAC_OF = {
    "bf16": "bf16",
    "fp16": "bf16",
    "fp8": "fp8",
    "int8": "fp8",
    "int4": "fp8",
    "fp4": "fp8",
    "tf32": "tf32",
    "fp32": "fp32",
}


def compute_dtype(dtype: str, acc: AcceleratorSpec) -> str:
    """The dtype a GEMM really runs in: fp8 / int8 / fp4 fall back to bf16 where the device lacks them."""
    if dtype == "fp8" and not acc.peak_fp8_flops_per_s:
        return "bf16"
    if dtype in ("int8", "int4") and not acc.peak_int8_flops_per_s:
        return "bf16"
    if dtype == "fp4" and not acc.peak_fp4_flops_per_s:
        return compute_dtype("fp8", acc)
    return dtype


@dataclass(frozen=True)
class GemmRate:
    """Achievable large-GEMM FLOP/s and operand element size, per plan (arrays broadcast)."""

    flops_per_s: Array
    elem_bytes: Array


def gemm_rate(
    dtype: str,
    acc: AcceleratorSpec,
    sm_frac: ArrayLike = 1.0,
    params: KernelParams | None = None,
) -> GemmRate:
    """frac(dtype) * peak(dtype) * sm_frac; `sm_frac` < 1 models SMs reserved for communication."""
    params = params or kernel_params_for(acc)
    dt = compute_dtype(dtype, acc)
    peak = params.gemm_frac[_FRAC_OF[dt]] * acc.peak_flops_per_s(dt)
    return GemmRate(
        peak * np.asarray(sm_frac, dtype=float), np.asarray(dtype_bytes(dt), dtype=float)
    )


def choose_rate(use_first: ArrayLike, first: GemmRate, second: GemmRate) -> GemmRate:
    """Per plan, `first` where `use_first` else `second` (e.g. fp8 plans vs bf16 plans)."""
    sel = np.asarray(use_first, dtype=bool)
    return GemmRate(
        np.where(sel, first.flops_per_s, second.flops_per_s),
        np.where(sel, first.elem_bytes, second.elem_bytes),
    )


def gemm_compute_s(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    rate: GemmRate,
    acc: AcceleratorSpec,
    groups: ArrayLike = 1.0,
) -> Array:
    """Math time of `groups` (m x k) @ (k x n) GEMMs in one launch: the tile- and wave-quantized
    FLOPs of perf/tiles.effective_gemm_flops at the achievable rate."""
    return effective_gemm_flops(m, n, k, groups, acc.num_compute_units) / rate.flops_per_s


def gemm_stream_s(
    nbytes: ArrayLike,
    acc: AcceleratorSpec,
    params: KernelParams | None = None,
    batched: bool = False,
    warm_l2_bytes: ArrayLike = 0.0,
) -> Array:
    """HBM time of a GEMM's operands: max(bytes - warm, 0) / (frac * HBM). A single GEMM (cuBLAS
    through torch.matmul) and a batched/grouped launch (bmm, grouped expert GEMM, whatever its group
    count) reach different fitted fractions (calibration.py). `warm_l2_bytes` are operand bytes
    already in L2, as when a benchmark repeats one GEMM; a model step streams each weight once, so
    the model itself always passes 0."""
    params = params or kernel_params_for(acc)
    frac = params.grouped_gemm_memory_frac if batched else params.gemm_memory_frac
    cold = np.maximum(np.asarray(nbytes, dtype=float) - np.asarray(warm_l2_bytes, dtype=float), 0.0)
    return cold / (frac * acc.hbm_bandwidth_bytes_per_s)


def gemm_time_at(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    rate: GemmRate,
    acc: AcceleratorSpec,
    params: KernelParams | None = None,
    groups: ArrayLike = 1.0,
    batched: bool = False,
    warm_l2_bytes: ArrayLike = 0.0,
    weight_elem_bytes: ArrayLike | None = None,
) -> Array:
    """`groups` GEMMs of one shape in one launch: floor + max(gemm_compute_s, gemm_stream_s of the
    (mk + kn + mn) g operand elements); 0 for empty GEMMs. `batched`: a bmm/grouped kernel.
    `weight_elem_bytes`: size of the (k x n) operand's elements when it is stored narrower than the
    math runs (weight-only int4); the rate's element size otherwise."""
    params = params or kernel_params_for(acc)
    m, n, k, g = (np.asarray(x, dtype=float) for x in (m, n, k, groups))
    w_bytes = rate.elem_bytes if weight_elem_bytes is None else weight_elem_bytes
    compute = gemm_compute_s(m, n, k, rate, acc, g)
    nbytes = g * (k * n * w_bytes + (m * k + m * n) * rate.elem_bytes)
    memory = gemm_stream_s(nbytes, acc, params, batched, warm_l2_bytes)
    return np.where(m * n * k * g > 0, params.kernel_floor_s + np.maximum(compute, memory), 0.0)


def gemm_time_s(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    dtype: str,
    acc: AcceleratorSpec,
    sm_frac: ArrayLike = 1.0,
    params: KernelParams | None = None,
) -> Array:
    """One (m x k) @ (k x n) GEMM in `dtype`: floor + max(2mnk / (frac * peak * sm_frac),
    bytes / (frac_mem * HBM)), fractions fitted on H200 (calibration.py)."""
    params = params or kernel_params_for(acc)
    return gemm_time_at(m, n, k, gemm_rate(dtype, acc, sm_frac, params), acc, params)


def grouped_gemm_time_s(
    num_groups: ArrayLike,
    m_per_group: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    dtype: str | GemmRate,
    acc: AcceleratorSpec,
    sm_frac: ArrayLike = 1.0,
    params: KernelParams | None = None,
) -> Array:
    """`num_groups` GEMMs of equal shape in one launch (grouped GEMM / bmm: one floor, tiles of all groups
    share the waves)."""
    params = params or kernel_params_for(acc)
    rate = gemm_rate(dtype, acc, sm_frac, params) if isinstance(dtype, str) else dtype
    return gemm_time_at(m_per_group, n, k, rate, acc, params, groups=num_groups, batched=True)


def memory_bound_time_s(
    nbytes: ArrayLike,
    acc: AcceleratorSpec,
    op: str = "copy",
    params: KernelParams | None = None,
) -> Array:
    """A bandwidth-bound kernel moving `nbytes` (reads + writes): floor + bytes / (frac_op * HBM).
    `op` is one of copy, norm, act, add, softmax (measured classes of h200_micro.json)."""
    params = params or kernel_params_for(acc)
    frac = params.copy_frac if op == "copy" else params.elementwise_frac[op]
    b = np.asarray(nbytes, dtype=float)
    return np.where(b > 0, params.kernel_floor_s + b / (frac * acc.hbm_bandwidth_bytes_per_s), 0.0)


def attention_flops(
    batch: ArrayLike,
    heads: ArrayLike,
    seq_q: ArrayLike,
    seq_kv: ArrayLike,
    d_qk: float,
    d_v: float,
    causal: bool,
) -> Array:
    """Forward FLOPs of QK^T and PV: 2*b*h*s_q*s_kv*(d_qk+d_v), halved under a causal mask."""
    b, h, sq, skv = (np.asarray(x, dtype=float) for x in (batch, heads, seq_q, seq_kv))
    return 2.0 * b * h * sq * skv * (d_qk + d_v) * (0.5 if causal else 1.0)


def _attn_eff(seq: Array, d: float, frac: float, s_half: float, d_half: float) -> Array:
    return frac * seq / (seq + s_half) * d / (d + d_half)


def attention_time_s(
    batch: ArrayLike,
    heads: ArrayLike,
    seq_q: ArrayLike,
    seq_kv: ArrayLike,
    d_qk: float,
    d_v: float,
    causal: bool,
    acc: AcceleratorSpec,
    backward: bool = False,
    sm_frac: ArrayLike = 1.0,
    params: KernelParams | None = None,
) -> Array:
    """Fused flash attention (bf16) forward, or its backward (2.5x the forward FLOPs, FlashAttention-2
    Sec 3.2), with efficiency fitted vs sequence length and head dimension on H200 SDPA timings."""
    params = params or kernel_params_for(acc)
    flops = attention_flops(batch, heads, seq_q, seq_kv, d_qk, d_v, causal)
    seq = np.asarray(seq_kv, dtype=float)
    d = 0.5 * (d_qk + d_v)
    peak = acc.peak_bf16_flops_per_s * np.asarray(sm_frac)
    fwd = flops / (
        _attn_eff(
            seq, d, params.attn_fwd_frac, params.attn_fwd_seq_half, params.attn_fwd_head_dim_half
        )
        * peak
    )
    b, h, sq = (np.asarray(x, dtype=float) for x in (batch, heads, seq_q))
    io_bytes = 2.0 * b * h * (sq * (d_qk + d_v) + seq * (d_qk + d_v))  # q, o, k, v in bf16
    fwd = np.maximum(fwd, io_bytes / (params.copy_frac * acc.hbm_bandwidth_bytes_per_s))
    if not backward:
        return np.where(flops > 0, params.kernel_floor_s + fwd, 0.0)
    both = (
        3.5
        * flops
        / (
            _attn_eff(
                seq,
                d,
                params.attn_fwdbwd_frac,
                params.attn_fwdbwd_seq_half,
                params.attn_fwdbwd_head_dim_half,
            )
            * peak
        )
    )
    return np.where(flops > 0, params.kernel_floor_s + np.maximum(both - fwd, fwd), 0.0)


def launch_time_s(
    num_kernels: ArrayLike,
    cuda_graphs: bool = False,
    params: KernelParams | None = None,
    acc: AcceleratorSpec | None = None,
) -> Array:
    """Host time to launch `num_kernels` kernels (eager PyTorch ~15 us each; CUDA graphs ~2 us)."""
    params = params or (kernel_params_for(acc) if acc is not None else H200_KERNEL_PARAMS)
    per = params.graph_launch_s if cuda_graphs else params.eager_launch_s
    return np.asarray(num_kernels, dtype=float) * per
