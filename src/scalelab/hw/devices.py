"""A heterogeneous machine for `scalelab place`: devices (catalog id or inline table, with their
achievable fraction of peak) and the links between them, read from a TOML devices file."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from scalelab.core import catalog
from scalelab.core.errors import ConfigError
from scalelab.core.io import build, read_mapping
from scalelab.core.scenario import resolve_accelerator
from scalelab.core.specs import AcceleratorSpec, Spec
from scalelab.core.units import normalize_units
from scalelab.hw.opgraph import OP_KINDS, Op

# Fraction of peak a device sustains on large kernels, by kind. GPU: measured on the H200
# (shared/validation/h200_kernels.json: 8192^3 bf16 GEMM 769.5 of 989.4 TFLOP/s = 0.78; 4 GiB
# copy 4.26 of 4.8 TB/s = 0.89). Others are ASSUMPTIONS (CPU: STREAM-like ~0.75 of DDR5 peak,
# AVX-512 GEMM ~0.5 of peak under clock drop); override per device in the devices file.
DEFAULT_EFFICIENCY: dict[str, tuple[float, float]] = {
    "gpu": (0.78, 0.89),
    "tpu": (0.78, 0.89),
    "cpu": (0.5, 0.75),
    "fpga": (0.8, 0.8),
    "cim": (0.8, 0.8),
    "photonic": (0.8, 0.8),
    "asic": (0.78, 0.89),
}


class DeviceEntry(Spec):
    """One device of the machine (TOML `[[devices]]`)."""

    name: str
    accelerator: str | dict[str, Any]
    memory_bytes: float | None = Field(default=None, gt=0)
    compute_efficiency_frac: float | None = Field(default=None, gt=0, le=1)
    memory_efficiency_frac: float | None = Field(default=None, gt=0, le=1)


class LinkEntry(Spec):
    """A link between two devices (TOML `[[links]]`): bandwidth per direction, latency."""

    between: tuple[str, str]
    bandwidth_bytes_per_s: float | None = Field(default=None, gt=0)
    latency_s: float | None = Field(default=None, ge=0)
    interconnect: str | None = None  # a catalog scale-up id supplying bandwidth and latency


class DevicesFile(Spec):
    devices: list[DeviceEntry] = Field(min_length=1)
    links: list[LinkEntry] = Field(default_factory=list)
    pins: dict[str, str] = Field(default_factory=dict)  # op kind -> device name
    memory_reserve_frac: float = Field(default=0.1, ge=0, lt=1)  # KV cache, activations, runtime


@dataclass(frozen=True)
class Device:
    """A resolved device: usable memory and sustained rates (efficiency x peak)."""

    name: str
    acc: AcceleratorSpec
    memory_bytes: float
    compute_efficiency_frac: float
    memory_efficiency_frac: float

    def op_time_s(self, op: Op, dtype: str) -> float:
        """Roofline time of `op` here: the slower of compute and memory traffic."""
        flops = self.acc.peak_flops_per_s(dtype) * self.compute_efficiency_frac
        mem = self.acc.hbm_bandwidth_bytes_per_s * self.memory_efficiency_frac
        return max(op.flops / flops, op.read_bytes / mem)


@dataclass(frozen=True)
class Machine:
    devices: tuple[Device, ...]
    links: dict[tuple[str, str], tuple[float, float]]  # (a, b) -> (bytes/s, latency s), both orders
    pins: dict[str, str]
    memory_reserve_frac: float

    def transfer_s(self, nbytes: float, src: str, dst: str) -> float:
        """Time to move `nbytes` from src to dst; inf without a link (no routing through others)."""
        if src == dst:
            return 0.0
        link = self.links.get((src, dst))
        if link is None:
            return math.inf
        return link[1] + nbytes / link[0]


def _device(entry: DeviceEntry, where: str) -> Device:
    acc = resolve_accelerator(entry.accelerator, f"{where}: device '{entry.name}'")
    comp, mem = DEFAULT_EFFICIENCY.get(acc.kind, (0.78, 0.89))
    return Device(
        entry.name,
        acc,
        entry.memory_bytes or acc.hbm_bytes,
        entry.compute_efficiency_frac or comp,
        entry.memory_efficiency_frac or mem,
    )


def _link(entry: LinkEntry, names: set[str], where: str) -> tuple[float, float]:
    for n in entry.between:
        if n not in names:
            raise ConfigError(
                f"{where}: link names unknown device '{n}' (devices: {', '.join(sorted(names))})"
            )
    bw, lat = entry.bandwidth_bytes_per_s, entry.latency_s
    if entry.interconnect is not None:
        spec = catalog.load_link(entry.interconnect)
        bw, lat = (
            bw or spec.bandwidth_bytes_per_s_per_direction,
            lat if lat is not None else spec.latency_s,
        )
    if bw is None:
        raise ConfigError(f"{where}: link {entry.between} needs bandwidth_gb_per_s or interconnect")
    return bw, lat if lat is not None else 1e-6


def machine_from_mapping(data: dict[str, Any], where: str = "devices") -> Machine:
    """Validate a devices mapping (source units allowed: memory_gb, bandwidth_gb_per_s, latency_us)."""
    fields = dict(data)
    for key in ("devices", "links"):
        if key in fields and isinstance(fields[key], list):
            fields[key] = [
                normalize_units(dict(x)) if isinstance(x, dict) else x for x in fields[key]
            ]
    spec = build(DevicesFile, fields, where)
    devices = tuple(_device(d, where) for d in spec.devices)
    names = {d.name for d in devices}
    if len(names) != len(devices):
        raise ConfigError(f"{where}: device names must be unique")
    for kind, dev in spec.pins.items():
        if kind not in OP_KINDS or dev not in names:
            raise ConfigError(
                f"{where}: pin '{kind} = {dev}' needs an op kind ({', '.join(OP_KINDS)}) and a device"
            )
    links: dict[tuple[str, str], tuple[float, float]] = {}
    for entry in spec.links:
        bw_lat = _link(entry, names, where)
        a, b = entry.between
        links[(a, b)] = links[(b, a)] = bw_lat
    return Machine(devices, links, dict(spec.pins), spec.memory_reserve_frac)


def load_machine(path: str | Path) -> Machine:
    """A Machine from a devices TOML/JSON/YAML file; errors name the file and field."""
    return machine_from_mapping(read_mapping(path), str(path))
