"""Device power, run energy, CO2 and money. Power = idle + e_flop(dtype) * FLOP/s + e_byte * bytes/s,
capped at the board limit; a kernel that would exceed the cap is clocked down (same energy per
operation, fewer operations per second). Calibrated on our H200 measurements (docs/hardware.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core import catalog
from scalelab.core.errors import ConfigError
from scalelab.core.specs import AcceleratorSpec, ClusterSpec

CALIBRATION_DEVICE = "h200-sxm-141gb"
J_PER_KWH = 3.6e6
Array = NDArray[np.float64]


@dataclass(frozen=True)
class PowerPoint:
    """One measured operating point: sustained rates and the board power they drew."""

    label: str
    flops_per_s: float
    bytes_per_s: float
    power_w: float


# Measured here: public.yaml case h200-power (one H200 SXM, nvidia-smi power.draw, 2026-11-30).
# Only these two points are fitted; the fp8 GEMM point of the same case is held out.
_GEMM_N = 8192  # square bf16 GEMM: 2N^3 FLOPs, 3 * N^2 * 2 bytes compulsory traffic -> 3/N B/FLOP
H200_FIT_POINTS = (
    PowerPoint("bf16 GEMM 8192^3", 664.5628e12, 664.5628e12 * 3 / _GEMM_N, 691.87),
    PowerPoint("copy 4 GiB", 0.0, 4.296538e12, 645.93),
)


def fit_energy_coefficients(
    idle_w: float, points: tuple[PowerPoint, ...] | list[PowerPoint]
) -> tuple[float, float]:
    """(J per FLOP, J per byte) by least squares of P - idle = e_flop*F + e_byte*B over `points`
    (exact with two independent points). Raises ConfigError if the points cannot separate them."""
    a = np.array([[p.flops_per_s, p.bytes_per_s] for p in points], dtype=float)
    y = np.array([p.power_w - idle_w for p in points], dtype=float)
    if len(points) < 2 or np.linalg.matrix_rank(a) < 2:
        raise ConfigError("power calibration needs two points with independent FLOP/s and bytes/s")
    (e_flop, e_byte), *_ = np.linalg.lstsq(a, y, rcond=None)
    if e_flop <= 0 or e_byte <= 0:
        raise ConfigError("power calibration gave a non-positive energy per FLOP or per byte")
    return float(e_flop), float(e_byte)


@cache
def peak_power_ratios() -> tuple[float, float, float]:
    """Dimensionless transfer of the H200 fit to any device: (e_flop_bf16 * peak_bf16 / (tdp - idle),
    e_byte * hbm_bw / (tdp - idle), idle / tdp). A device at its bf16 peak would draw r_flop times
    its dynamic budget (> 1 means it must throttle)."""
    ref = catalog.load_accelerator(CALIBRATION_DEVICE)
    idle = ref.idle_w or 0.0
    e_flop, e_byte = fit_energy_coefficients(idle, H200_FIT_POINTS)
    dyn = ref.tdp_w - idle
    return (
        e_flop * ref.peak_bf16_flops_per_s / dyn,
        e_byte * ref.hbm_bandwidth_bytes_per_s / dyn,
        idle / ref.tdp_w,
    )


@dataclass(frozen=True)
class PowerModel:
    """A device's power model. e_flop for another dtype scales by peak ratio (ASSUMPTION: a tensor
    core draws the same power per clock in every dtype; fp8 does twice the FLOPs per clock)."""

    idle_w: float
    board_limit_w: float
    j_per_flop_bf16: float
    j_per_byte: float
    peak_bf16_flops_per_s: float

    def j_per_flop(self, acc: AcceleratorSpec, dtype: str) -> float:
        return self.j_per_flop_bf16 * self.peak_bf16_flops_per_s / acc.peak_flops_per_s(dtype)

    def dynamic_w(
        self, acc: AcceleratorSpec, flops_per_s: float, bytes_per_s: float, dtype: str
    ) -> float:
        return self.j_per_flop(acc, dtype) * flops_per_s + self.j_per_byte * bytes_per_s


def power_model(acc: AcceleratorSpec) -> PowerModel:
    """The calibrated model for `acc`: the H200 fit, carried to other devices through their TDP,
    idle power (or the H200's idle fraction if unknown), bf16 peak and memory bandwidth."""
    r_flop, r_byte, idle_frac = peak_power_ratios()
    idle = acc.idle_w if acc.idle_w is not None else idle_frac * acc.tdp_w
    dyn = max(acc.tdp_w - idle, 0.0)
    return PowerModel(
        idle,
        acc.tdp_w,
        r_flop * dyn / acc.peak_bf16_flops_per_s,
        r_byte * dyn / acc.hbm_bandwidth_bytes_per_s,
        acc.peak_bf16_flops_per_s,
    )


def _check_rates(flops_per_s: float, bytes_per_s: float) -> None:
    if flops_per_s < 0 or bytes_per_s < 0:
        raise ConfigError(f"rates must be >= 0 (got {flops_per_s} FLOP/s, {bytes_per_s} B/s)")


def average_power_w(
    acc: AcceleratorSpec, flops_per_s: ArrayLike, bytes_per_s: ArrayLike, dtype: str = "bf16"
) -> Array:
    """Board power (W) at sustained rates (arrays over plans broadcast), never above the board
    limit. Linear in work, so rates averaged over a step give the step's average power."""
    m = power_model(acc)
    f, b = np.asarray(flops_per_s, dtype=float), np.asarray(bytes_per_s, dtype=float)
    return np.minimum(m.board_limit_w, m.idle_w + m.j_per_flop(acc, dtype) * f + m.j_per_byte * b)


def device_power_w(
    acc: AcceleratorSpec, flops_per_s: float, bytes_per_s: float, dtype: str = "bf16"
) -> float:
    """Board power (W) at the given sustained rates, never above the board limit."""
    _check_rates(flops_per_s, bytes_per_s)
    return float(average_power_w(acc, flops_per_s, bytes_per_s, dtype))


@dataclass(frozen=True)
class OperatingPoint:
    """What a kernel sustains under the power cap. throttle_frac = 1 means not power-limited."""

    power_w: float
    flops_per_s: float
    bytes_per_s: float
    throttle_frac: float


def operating_point(
    acc: AcceleratorSpec, flops_per_s: float, bytes_per_s: float, dtype: str = "bf16"
) -> OperatingPoint:
    """Unthrottled rates (from a roofline or kernel model) -> the rates and power under the cap:
    if idle + dynamic > limit, both rates scale by (limit - idle) / dynamic (clock throttling,
    constant energy per operation: a first-order DVFS model that ignores voltage scaling)."""
    _check_rates(flops_per_s, bytes_per_s)
    m = power_model(acc)
    dyn = m.dynamic_w(acc, flops_per_s, bytes_per_s, dtype)
    scale = 1.0 if m.idle_w + dyn <= m.board_limit_w else (m.board_limit_w - m.idle_w) / dyn
    return OperatingPoint(m.idle_w + dyn * scale, flops_per_s * scale, bytes_per_s * scale, scale)


def step_energy_j(
    acc: AcceleratorSpec,
    step_time_s: float,
    flops: float,
    bytes_moved: float,
    dtype: str = "bf16",
    num_devices: int = 1,
) -> float:
    """Energy (J) of `num_devices` devices each doing `flops` and moving `bytes_moved` (HBM) in
    `step_time_s`: average power times time, so never below idle * time nor above limit * time."""
    if step_time_s <= 0:
        raise ConfigError(f"step time must be > 0, got {step_time_s}")
    power = device_power_w(acc, flops / step_time_s, bytes_moved / step_time_s, dtype)
    return power * step_time_s * num_devices


@dataclass(frozen=True)
class Facility:
    """Everything around the devices. Defaults are ASSUMPTIONS (docs/hardware.md): host CPUs,
    DRAM, NICs and fans ~150 W per accelerator at load (NVIDIA DGX H100 datasheet: 10.2 kW max
    for 8 x 700 W GPUs bounds it at 575 W); carbon intensity from the cluster (ClusterSpec);
    industrial electricity ~0.08 USD/kWh (US EIA, 2023); ~20 pJ/bit for scale-out traffic
    (pluggable 400G optics and switch ASICs along a two-level path; order of magnitude only)."""

    pue: float | None = None  # None: the cluster's pue
    node_overhead_w_per_device: float = 150.0
    grid_co2_kg_per_kwh: float | None = None  # None: the cluster's (ClusterSpec, 0.45 default)
    electricity_usd_per_kwh: float = 0.08
    network_j_per_bit: float = 20e-12


@dataclass(frozen=True)
class CostBasis:
    """How money is counted: `rental` = device-hours x price (power included in the price);
    `owned` = capex amortized over `amortization_years` plus the facility's electricity."""

    mode: Literal["rental", "owned"] = "rental"
    price_usd_per_device_hour: float | None = None  # None: the accelerator's catalog price
    capex_usd_per_device: float | None = None
    amortization_years: float = 4.0


@dataclass(frozen=True)
class EnergyReport:
    """Energy, carbon and money of a run (facility level: PUE applied)."""

    device_energy_j: float
    node_overhead_j: float
    network_energy_j: float
    facility_energy_j: float
    energy_kwh: float
    joules_per_token: float | None
    co2_kg: float
    cost_usd: float
    device_hours: float
    avg_device_power_w: float


@dataclass(frozen=True)
class EnergyArrays:
    """Facility energy of one period on every device of a cluster (arrays over plans, joules)."""

    device_energy_j: Array
    node_overhead_j: Array
    network_energy_j: Array
    facility_energy_j: Array
    avg_device_power_w: Array

    @property
    def energy_kwh(self) -> Array:
        return self.facility_energy_j / J_PER_KWH


def energy_arrays(
    cluster: ClusterSpec,
    wall_time_s: ArrayLike,
    flops_per_device: ArrayLike,
    bytes_per_device: ArrayLike,
    dtype: str = "bf16",
    network_bytes: ArrayLike = 0.0,
    facility: Facility | None = None,
) -> EnergyArrays:
    """The one energy mechanism (training runs, serving steps, report): device power from average
    rates, plus node overhead, plus network bits, times PUE. Arrays over plans broadcast."""
    fac, n = facility or Facility(), cluster.num_devices
    t = np.asarray(wall_time_s, dtype=float)
    power = average_power_w(
        cluster.accelerator,
        np.asarray(flops_per_device, dtype=float) / t,
        np.asarray(bytes_per_device, dtype=float) / t,
        dtype,
    )
    device_j = power * t * n
    overhead_j = fac.node_overhead_w_per_device * n * t
    net = cluster.scale_out
    j_per_bit = net.energy_j_per_bit if net and net.energy_j_per_bit else fac.network_j_per_bit
    network_j = np.asarray(network_bytes, dtype=float) * 8 * j_per_bit
    pue = fac.pue if fac.pue is not None else cluster.pue
    total_j = (device_j + overhead_j + network_j) * pue
    return EnergyArrays(device_j, overhead_j, network_j, total_j, power)


def grid_co2_kg_per_kwh(cluster: ClusterSpec, facility: Facility | None = None) -> float:
    """The facility's carbon intensity if set, else the cluster's site value (kg CO2 per kWh)."""
    fac = facility or Facility()
    if fac.grid_co2_kg_per_kwh is not None:
        return fac.grid_co2_kg_per_kwh
    return cluster.grid_co2_kg_per_kwh


def run_energy(
    cluster: ClusterSpec,
    wall_time_s: float,
    flops_per_device: float,
    bytes_per_device: float,
    dtype: str = "bf16",
    tokens: float = 0.0,
    network_bytes: float = 0.0,
    facility: Facility | None = None,
    cost: CostBasis | None = None,
) -> EnergyReport:
    """A run of `wall_time_s` on every device of `cluster`, each doing `flops_per_device` FLOPs and
    moving `bytes_per_device` HBM bytes; `network_bytes` crossed the scale-out network in total."""
    if wall_time_s <= 0:
        raise ConfigError(f"step time must be > 0, got {wall_time_s}")
    _check_rates(flops_per_device, bytes_per_device)
    fac, basis = facility or Facility(), cost or CostBasis()
    e = energy_arrays(
        cluster, wall_time_s, flops_per_device, bytes_per_device, dtype, network_bytes, fac
    )
    total_j, kwh = float(e.facility_energy_j), float(e.energy_kwh)
    device_hours = cluster.num_devices * wall_time_s / 3600
    return EnergyReport(
        float(e.device_energy_j),
        float(e.node_overhead_j),
        float(e.network_energy_j),
        total_j,
        kwh,
        total_j / tokens if tokens > 0 else None,
        kwh * grid_co2_kg_per_kwh(cluster, fac),
        _money(cluster.accelerator, basis, fac, device_hours, kwh),
        device_hours,
        float(e.avg_device_power_w),
    )


def _money(
    acc: AcceleratorSpec, basis: CostBasis, fac: Facility, device_hours: float, kwh: float
) -> float:
    if basis.mode == "rental":
        return device_hours * (basis.price_usd_per_device_hour or acc.price_usd_per_hour)
    if basis.capex_usd_per_device is None:
        raise ConfigError("cost mode 'owned' needs capex_usd_per_device")
    hours_of_life = basis.amortization_years * 365.25 * 24
    return (
        device_hours * basis.capex_usd_per_device / hours_of_life
        + kwh * fac.electricity_usd_per_kwh
    )
