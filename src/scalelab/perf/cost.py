"""Whole-run totals from a step: wall time, device-hours, money, energy, CO2 and joules per token.

Energy has one mechanism, `perf/energy.energy_arrays` (the power model calibrated on H200
measurements, node overhead, network, PUE; docs/hardware.md); this module only scales a step's
energy to the run. Money is rental: device-hours x price (DeepSeek-V3 TR Table 1 convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ClusterSpec, TrainWorkload
from scalelab.perf.energy import Facility, energy_arrays, grid_co2_kg_per_kwh

Array = NDArray[np.float64]


@dataclass(frozen=True)
class RunTotals:
    """Arrays over plans. Run-level fields are NaN where the workload has no train_tokens;
    per-step and per-token energy are always defined."""

    run_time_s: Array
    device_hours: Array
    cost_usd: Array
    energy_kwh: Array
    co2_kg: Array
    joules_per_token: Array  # facility energy per trained token
    step_energy_j: Array  # facility energy of one step, whole cluster
    avg_device_power_w: Array  # board power averaged over the step


def price_usd_per_device_hour(cluster: ClusterSpec, workload: TrainWorkload) -> float:
    """The workload's price if set, else the accelerator's catalog price (H800: $2, DeepSeek-V3 TR Table 1)."""
    return workload.price_usd_per_device_hour or cluster.accelerator.price_usd_per_hour


def run_totals(
    cluster: ClusterSpec,
    workload: TrainWorkload,
    step_time_s: ArrayLike,
    flops_per_device: ArrayLike,
    bytes_per_device: ArrayLike,
    facility: Facility | None = None,
) -> RunTotals:
    """Time, device-hours (N x hours), cost and energy to train workload.train_tokens, from one
    step's time and each device's work in it (bf16-equivalent FLOPs, HBM bytes; perf/train/predict.py)."""
    fac = facility or Facility()
    step_s = np.asarray(step_time_s, dtype=float)
    step = energy_arrays(cluster, step_s, flops_per_device, bytes_per_device, facility=fac)
    tokens = workload.train_tokens if workload.train_tokens is not None else float("nan")
    steps = tokens / workload.tokens_per_step
    run_s = steps * step_s
    hours = run_s * cluster.num_devices / 3600.0
    kwh = steps * step.energy_kwh
    return RunTotals(
        run_s,
        hours,
        hours * price_usd_per_device_hour(cluster, workload),
        kwh,
        kwh * grid_co2_kg_per_kwh(cluster, fac),
        step.facility_energy_j / workload.tokens_per_step,
        step.facility_energy_j,
        step.avg_device_power_w,
    )
