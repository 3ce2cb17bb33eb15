"""`scalelab calibrate`: measure this machine as a "cluster" of N local devices (CPU processes
or GPUs) and return the timings a hardware profile is made of.

On CPU each process is one device with cores/N threads, and every process measures at the
same time, so shared caches and memory bandwidth are contended as in training.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from scalelab.core.errors import ConfigError
from scalelab.lab.calibrate.collectives import SIZES_BYTES, measure_collectives
from scalelab.lab.calibrate.measure import (
    ATTENTION_SHAPES,
    GEMM_SHAPES,
    measure_attention,
    measure_elementwise,
    measure_gemm,
    measure_memory,
    measure_op_overhead,
)
from scalelab.lab.parallel.launch import init_distributed, select_backend, spawn

# CPU kernels differ a lot between fp32 and bf16 (bf16 attention backward and norms are slower).
ATTENTION_DTYPES = {"cpu": ("fp32", "bf16"), "cuda": ("bf16",)}


@dataclass(frozen=True)
class Calibration:
    """Everything measured, with the machine, versions and date it was measured on."""

    device_type: str
    device_name: str
    vendor: str
    host: str
    date: str
    torch_version: str
    num_processes: int
    threads_per_process: int
    memory_per_device_bytes: float
    op_overhead_s: float
    gemm: list[dict[str, Any]] = field(default_factory=list)
    attention: list[dict[str, Any]] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    all_reduce: list[dict[str, Any]] = field(default_factory=list)
    all_gather: list[dict[str, Any]] = field(default_factory=list)

    def best_gemm_flops_per_s(self, dtype: str) -> float | None:
        rates = [r["flops_per_s"] for r in self.gemm if r["dtype"] == dtype]
        return max(rates) if rates else None


def _cpu_name() -> tuple[str, str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                return name, name.split()[0]
    except OSError:
        pass
    return platform.processor() or platform.machine(), ""


def _machine(device: torch.device, nproc: int) -> dict[str, Any]:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        name, vendor, mem = props.name, "NVIDIA", float(props.total_memory)
    else:
        name, vendor = _cpu_name()
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / nproc
    return {
        "device_type": device.type,
        "device_name": name,
        "vendor": vendor,
        "host": socket.gethostname(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "torch_version": torch.__version__,
        "num_processes": nproc,
        "threads_per_process": torch.get_num_threads(),
        "memory_per_device_bytes": mem,
    }


def measure_device(device: torch.device, quick: bool) -> dict[str, Any]:
    """This process's compute and memory timings."""
    kind = device.type
    t = 0.05 if quick else 0.3
    shapes = GEMM_SHAPES[kind][:3] if quick else GEMM_SHAPES[kind]
    gemm = measure_gemm(shapes, "fp32", device, t) + measure_gemm(shapes, "bf16", device, t)
    mem_bytes = (32 << 20) if quick else ((256 << 20) if kind == "cpu" else (2 << 30))
    attn = ATTENTION_SHAPES[kind][:1] if quick else ATTENTION_SHAPES[kind]
    attention = [
        r for dtype in ATTENTION_DTYPES[kind] for r in measure_attention(attn, dtype, device, t)
    ]
    elementwise = [
        r
        for dtype in ATTENTION_DTYPES[kind]
        for r in measure_elementwise(min(mem_bytes, 8 << 20), dtype, device, t)
    ]
    return {
        "gemm": gemm,
        "memory": [measure_memory(mem_bytes, device, t), *elementwise],
        "attention": attention,
        "op_overhead_s": measure_op_overhead(device, t),
    }


def _worker(device: str, quick: bool, out: str) -> None:
    env = init_distributed(device)
    result = {**_machine(env.device, env.world_size), **measure_device(env.device, quick)}
    sizes = SIZES_BYTES[env.device.type][:3] if quick else SIZES_BYTES[env.device.type]
    result.update(measure_collectives(sizes, env.device, 5 if quick else 20))
    if env.rank == 0:
        Path(out).write_text(json.dumps(result))
    dist.destroy_process_group()


def default_nproc(device_type: str) -> int:
    """GPUs on this machine, or 2 CPU processes (1 when there is a single core)."""
    if device_type == "cuda":
        return torch.cuda.device_count()
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def calibrate(device: str = "auto", nproc: int | None = None, quick: bool = False) -> Calibration:
    """Measure `nproc` local devices at once (collectives need 2 or more) and return the timings."""
    device_type, _ = select_backend(device)
    nproc = nproc or default_nproc(device_type)
    if device_type == "cuda" and nproc > torch.cuda.device_count():
        raise ConfigError(f"--nproc {nproc} exceeds the {torch.cuda.device_count()} CUDA devices")
    if nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {nproc}")
    threads = max(1, (os.cpu_count() or 1) // nproc) if device_type == "cpu" else 1
    if nproc == 1:
        dev = torch.device(device_type, 0) if device_type == "cuda" else torch.device("cpu")
        return Calibration(**_machine(dev, 1), **measure_device(dev, quick))
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "calibration.json")
        spawn(_worker, nproc, device_type, quick, out, threads=threads)
        return Calibration(**json.loads(Path(out).read_text()))


def calibration_to_dict(cal: Calibration) -> dict[str, Any]:
    return asdict(cal)
