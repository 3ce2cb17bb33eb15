"""`kind: energy` metrics: board power and sustained rates at three operating points (large bf16
and fp8 GEMMs, a large copy) and idle. The unthrottled rates come from the kernel model
(perf.kernels, fitted on h200_kernels.json); perf.energy then applies the power cap.

Honesty note: the power model's energy per FLOP and per byte are fitted on this same case's bf16
GEMM and copy points (perf.energy.H200_FIT_POINTS) and idle_w is the measured idle, so those
metrics are calibration checks. The fp8 GEMM power and rate are held out (fp8 energy per FLOP is
the bf16 value scaled by the peak ratio), and every rate comes from the kernel model, not the case."""

from __future__ import annotations

from typing import Any

from scalelab.core.scenario import resolve_accelerator
from scalelab.core.specs import AcceleratorSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.energy import OperatingPoint, operating_point, power_model
from scalelab.perf.kernels.timing import compute_dtype, gemm_time_s, memory_bound_time_s

GEMM_N = 8192  # the square GEMM the case ran (h200_kernels.json has the same shape)
COPY_BYTES = 2 * 4 * 2**30  # a 4 GiB device-to-device copy: read + write


def gemm_point(acc: AcceleratorSpec, dtype: str, n: int = GEMM_N) -> OperatingPoint:
    """Sustained power and rates of an n^3 GEMM: kernel-model rate, compulsory traffic
    (two n x n inputs in `dtype`, bf16 output), then the power cap."""
    seconds = float(gemm_time_s(n, n, n, dtype, acc))
    flops = 2.0 * n**3
    traffic = 2 * n * n * dtype_bytes(compute_dtype(dtype, acc)) + n * n * dtype_bytes("bf16")
    return operating_point(acc, flops / seconds, traffic / seconds, dtype)


def copy_point(acc: AcceleratorSpec, nbytes: float = COPY_BYTES) -> OperatingPoint:
    """Sustained power and bandwidth of a large copy (bytes counted read + write)."""
    seconds = float(memory_bound_time_s(nbytes, acc, "copy"))
    return operating_point(acc, 0.0, nbytes / seconds)


def compute(case: dict[str, Any]) -> dict[str, float]:
    """Power-model predictions for the case's accelerator."""
    hardware = case.get("hardware", {})
    acc = resolve_accelerator(
        hardware.get("accelerator", "h200-sxm-141gb"), f"case {case.get('id')}: hardware"
    )
    bf16, copy = gemm_point(acc, "bf16"), copy_point(acc)
    out = {
        "idle_w": power_model(acc).idle_w,
        "board_w": acc.tdp_w,
        "bf16_gemm_w": bf16.power_w,
        "bf16_gemm_flops_per_s": bf16.flops_per_s,
        "bf16_gemm_throttle_frac": bf16.throttle_frac,
        "copy_w": copy.power_w,
        "copy_bytes_per_s": copy.bytes_per_s,
    }
    if acc.peak_fp8_flops_per_s:
        fp8 = gemm_point(acc, "fp8")
        out |= {
            "fp8_gemm_w": fp8.power_w,
            "fp8_gemm_flops_per_s": fp8.flops_per_s,
            "fp8_gemm_throttle_frac": fp8.throttle_frac,
        }
    return out
