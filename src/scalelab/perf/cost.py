"""Whole-run totals from a step time: wall time, device-hours, money and a first energy estimate.

Energy is a first estimate (refined by the hardware model): each device draws its idle power plus
(TDP - idle) while its kernels run, times the facility PUE. A device without a measured idle power
is assumed to idle at IDLE_FRAC_OF_TDP of its TDP (assumption; the H200 measured 80 W of 700 W).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ClusterSpec, TrainWorkload

Array = NDArray[np.float64]
IDLE_FRAC_OF_TDP = 0.15
J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class RunTotals:
    """Arrays over plans; NaN where the workload has no train_tokens."""

    run_time_s: Array
    device_hours: Array
    cost_usd: Array
    energy_kwh: Array
    avg_device_power_w: Array


def price_usd_per_device_hour(cluster: ClusterSpec, workload: TrainWorkload) -> float:
    """The workload's price if set, else the accelerator's catalog price (H800: $2, DeepSeek-V3 TR Table 1)."""
    return workload.price_usd_per_device_hour or cluster.accelerator.price_usd_per_hour


def run_totals(
    cluster: ClusterSpec, workload: TrainWorkload, tokens_per_s: ArrayLike, busy_frac: ArrayLike
) -> RunTotals:
    """Time, device-hours (N x hours), cost and energy to train workload.train_tokens."""
    acc = cluster.accelerator
    rate = np.asarray(tokens_per_s, dtype=float)
    tokens = workload.train_tokens if workload.train_tokens is not None else float("nan")
    run_s = tokens / rate
    hours = run_s * cluster.num_devices / 3600.0
    idle = acc.idle_w if acc.idle_w is not None else IDLE_FRAC_OF_TDP * acc.tdp_w
    power = idle + (acc.tdp_w - idle) * np.clip(np.asarray(busy_frac, dtype=float), 0.0, 1.0)
    energy = power * run_s * cluster.num_devices * cluster.pue / J_PER_KWH
    return RunTotals(
        run_s, hours, hours * price_usd_per_device_hour(cluster, workload), energy, power
    )
