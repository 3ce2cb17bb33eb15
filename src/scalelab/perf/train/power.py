"""Clock throttling under the board power limit, applied to a training step.

The kernel model gives rates a device reaches in short bursts (h200_kernels.json times a few calls;
the MAMF rates that set other devices' curves are bursts too). A training step runs for seconds,
and a device that would draw more than its board limit at those rates is clocked down: the same
energy per operation, fewer operations per second (perf/energy.py's first-order DVFS model, fitted
on the H200's measured power under sustained GEMMs and copies). One H200 measurement shows the
size of the effect: a sustained 8192^3 bf16 GEMM ran at 665 TFLOP/s against 770 TFLOP/s for a short
burst of the same GEMM (public.yaml case h200-power vs h200_kernels.json).

The limiter averages power over a window far longer than one kernel (tens of milliseconds or
more), so the step's average power is what is capped: kernel time stretches by the factor that
brings the step's dynamic energy back under (limit - idle) x step time; exposed communication
(the device mostly waits) does not stretch.
"""

from __future__ import annotations

import numpy as np

from scalelab.core.specs import AcceleratorSpec
from scalelab.perf.energy import power_model
from scalelab.perf.train.ops import Array

# Parts of the step breakdown that run kernels (and stretch with the clock); the rest is exposed
# communication.
KERNEL_PARTS = ("compute", "pipeline_bubble", "optimizer")


def throttle_frac(
    acc: AcceleratorSpec,
    breakdown_s: dict[str, Array],
    step_s: Array,
    flops_bf16: Array,
    hbm_bytes: Array,
) -> Array:
    """Clock fraction (<= 1) a step runs at: 1 where its average power fits the board limit, else
    the fraction at which idle + dynamic energy / stretched step time equals the limit. The
    dynamic energy is that of the bf16-equivalent FLOPs and HBM bytes the device moves per step."""
    m = power_model(acc)
    budget = max(m.board_limit_w - m.idle_w, 1e-9)
    energy = m.j_per_flop_bf16 * np.asarray(flops_bf16) + m.j_per_byte * np.asarray(hbm_bytes)
    kernel = sum((breakdown_s[k] for k in KERNEL_PARTS), np.zeros_like(step_s))
    other = step_s - kernel
    needed = energy / budget  # the shortest step the limit allows
    theta = kernel / np.maximum(needed - other, 1e-30)
    return np.where(needed > step_s, np.clip(theta, 1e-3, 1.0), 1.0)
