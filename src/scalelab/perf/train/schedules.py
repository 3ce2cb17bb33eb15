"""Pipeline schedules: bubble time and micro-batches in flight (activation memory), per plan.

Per-micro-batch times f, b, w are those of the slowest device for one micro-batch (all its chunks);
formulas from Narayanan et al. SC'21 Sec 2.2 (GPipe, 1F1B, interleaved), Qi et al. ICLR'24
"Zero Bubble Pipeline Parallelism" Table 1 (ZB-H1) and DeepSeek-V3 TR Table 2 (DualPipe).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.perf.train.plan_arrays import (
    SCHED_1F1B,
    SCHED_DUALPIPE,
    SCHED_GPIPE,
    SCHED_INTERLEAVED,
    SCHED_NONE,
    SCHED_ZB,
)

Array = NDArray[np.float64]


def bubble_time_s(
    schedule: ArrayLike,
    pp: ArrayLike,
    virtual: ArrayLike,
    f: ArrayLike,
    b: ArrayLike,
    w: ArrayLike,
    fb_overlapped: ArrayLike | None = None,
) -> Array:
    """Idle time of the slowest device per step, with b the input-gradient and w the weight-gradient
    time (a full backward is b + w). GPipe/1F1B: (p-1)(f+b+w); interleaved: (p-1)(f+b+w)/v;
    ZB-H1: (p-1)(f + (b+w) - 2w); DualPipe: (p/2-1)(F&B + (b+w) - 3w), F&B the overlapped pair."""
    sched = np.asarray(schedule)
    p, v = (np.asarray(x, dtype=float) for x in (pp, virtual))
    f, b, w = (np.asarray(x, dtype=float) for x in (f, b, w))
    fb = f + b if fb_overlapped is None else np.asarray(fb_overlapped, dtype=float)
    full = (p - 1.0) * (f + b + w)
    out = np.select(
        [
            sched == SCHED_NONE,
            (sched == SCHED_GPIPE) | (sched == SCHED_1F1B),
            sched == SCHED_INTERLEAVED,
            sched == SCHED_ZB,
            sched == SCHED_DUALPIPE,
        ],
        [
            np.zeros_like(full),
            full,
            full / np.maximum(v, 1.0),
            (p - 1.0) * np.maximum(f + b - w, 0.0),
            np.maximum(p / 2.0 - 1.0, 0.0) * np.maximum(fb + b - 2.0 * w, 0.0),
        ],
        default=full,
    )
    return np.where(p > 1, out, 0.0)


def bubble_fraction(
    schedule: ArrayLike,
    pp: ArrayLike,
    num_micro: ArrayLike,
    virtual: ArrayLike = 1,
    f: ArrayLike = 1.0,
    b: ArrayLike = 2.0,
    w: ArrayLike = 0.0,
) -> Array:
    """bubble / (m (f+b+w) + bubble): for 1F1B with w folded into b this is (p-1)/(m+p-1)."""
    bubble = bubble_time_s(schedule, pp, virtual, f, b, w)
    work = np.asarray(num_micro, dtype=float) * (np.asarray(f) + np.asarray(b) + np.asarray(w))
    return np.asarray(bubble / (work + bubble), dtype=float)


def in_flight_micro_batches(
    schedule: ArrayLike, pp: ArrayLike, num_micro: ArrayLike, virtual: ArrayLike
) -> Array:
    """Micro-batches whose activations the first device holds at peak, in units of one micro-batch
    through that device's layers. GPipe m; 1F1B and ZB-H1 min(p, m); interleaved
    p (1 + (p-1)/(p v)) (Korthikanti et al. 2022 Sec 4.2.3); DualPipe (p+1)/2 because the device
    holds two stages (DeepSeek-V3 TR Table 2: PP+1 stage-activations)."""
    sched = np.asarray(schedule)
    p, m, v = (np.asarray(x, dtype=float) for x in (pp, num_micro, virtual))
    one_f_one_b = np.minimum(p, m)
    out = np.select(
        [sched == SCHED_GPIPE, sched == SCHED_INTERLEAVED, sched == SCHED_DUALPIPE],
        [
            m,
            one_f_one_b * (1.0 + (p - 1.0) / (p * np.maximum(v, 1.0))),
            np.minimum(p + 1.0, 2.0 * m) / 2.0,
        ],
        default=one_f_one_b,
    )
    return np.where(p > 1, out, 1.0)


def dualpipe_time_s(
    pp: ArrayLike, num_micro: ArrayLike, f: ArrayLike, b: ArrayLike, w: ArrayLike, fb: ArrayLike
) -> tuple[Array, Array]:
    """(time, bubble) of one DualPipe step on the end rank. Its own work follows the reference
    schedule (deepseek-ai/DualPipe dualpipe.py, steps 1-8 for rank 0, H = pp/2): 3H-1 forward chunks,
    2H-1 input-gradient and H full backward chunks and 2H-1 weight chunks run unpaired (their EP
    traffic exposed), the other m-3H+1 forwards run as overlapped F&B pairs; idle time is
    (H-1)(F&B + B - 3W) (DeepSeek-V3 TR Table 2). The bubble is everything beyond m F&B pairs."""
    p, m = (np.asarray(x, dtype=float) for x in (pp, num_micro))
    f, b, w, fb = (np.asarray(x, dtype=float) for x in (f, b, w, fb))
    h = p / 2.0
    own = (3 * h - 1) * f + (m - 3 * h + 1) * fb + (2 * h - 1) * b + h * (b + w) + (2 * h - 1) * w
    idle = (h - 1) * np.maximum(fb + b - 2.0 * w, 0.0)
    total = np.where(p > 1, own + idle, m * fb)
    return total, total - m * fb
