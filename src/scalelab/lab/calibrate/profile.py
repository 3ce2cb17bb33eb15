"""A Calibration as a hardware profile: an accelerator TOML in the catalog's format (source
units, `[sources]` naming the measurement) plus a `[measured]` table of every timing, loadable
by `scalelab.core.scenario.resolve_accelerator("PROFILE.toml")`.

"Peak" here is the best rate measured, not a datasheet figure; the profile says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scalelab.core.io import write_atomic
from scalelab.lab.calibrate.run import Calibration
from scalelab.lab.calibrate.tomlout import dumps_toml

# Energy needs a power figure that calibrate cannot measure; the profile marks it an assumption.
ASSUMED_TDP_W = {"cpu": 15.0, "cuda": 700.0}


def profile_id(cal: Calibration) -> str:
    host = re.sub(r"[^a-z0-9]+", "-", cal.host.lower()).strip("-") or "host"
    return f"calibrated-{cal.device_type}-{host}"


def _where(cal: Calibration) -> str:
    return f"measured by scalelab calibrate on {cal.date}, {cal.host}, torch {cal.torch_version}"


def _best(records: list[dict[str, Any]], key: str) -> float | None:
    return max((r[key] for r in records), default=None)


def _link(cal: Calibration) -> dict[str, Any]:
    busbw = _best(cal.all_reduce, "busbw_bytes_per_s")
    if busbw is None:
        return {}
    kind = "nccl-local" if cal.device_type == "cuda" else "gloo-local"
    return {"scale_up_kind": kind, "scale_up_bandwidth_gb_per_s_per_direction": busbw / 1e9}


def _sources(cal: Calibration, has_link: bool) -> dict[str, str]:
    where = _where(cal)
    src = {
        "peak": f"{where}: best dense GEMM rate over {len(cal.gemm)} shapes "
        f"({cal.num_processes} processes measuring at once, {cal.threads_per_process} "
        "threads each); an achieved rate, not a datasheet peak",
        "hbm": f"{where}: "
        + ("device memory" if cal.device_type == "cuda" else "system memory / processes"),
        "hbm_bandwidth": f"{where}: device-to-device copy, (read + write) bytes / time",
        "default_devices_per_node": f"{where}: processes measured on this machine",
    }
    if has_link:
        src["scale_up"] = f"{where}: all-reduce bus bandwidth (nccl-tests convention), best size"
    return src


def profile_mapping(cal: Calibration) -> dict[str, Any]:
    """The profile as a TOML-ready mapping (catalog keys in source units)."""
    fp32 = cal.best_gemm_flops_per_s("fp32")
    bf16 = cal.best_gemm_flops_per_s("bf16") or fp32
    link = _link(cal)
    small = min(cal.all_reduce, key=lambda r: r["size_bytes"], default=None)
    copies = [r for r in cal.memory if r.get("op", "copy") == "copy"]
    return {
        "id": profile_id(cal),
        "name": f"{cal.device_name} (calibrated, {cal.num_processes} local device{'s' if cal.num_processes > 1 else ''})",
        "kind": "gpu" if cal.device_type == "cuda" else "cpu",
        "vendor": cal.vendor,
        "peak_fp32_tflops": (fp32 or 0.0) / 1e12,
        "peak_bf16_tflops": (bf16 or 0.0) / 1e12,
        "hbm_gb": cal.memory_per_device_bytes / 1e9,
        "hbm_bandwidth_tb_per_s": (_best(copies, "bytes_per_s") or 0.0) / 1e12,
        **link,
        "tdp_w": ASSUMED_TDP_W[cal.device_type],
        "default_devices_per_node": cal.num_processes,
        "sources": _sources(cal, bool(link)),
        "assumptions": {
            "tdp_w": "not measured by calibrate: a placeholder for energy estimates; set it"
        },
        "measured": {
            "date": cal.date,
            "host": cal.host,
            "torch_version": cal.torch_version,
            "device_type": cal.device_type,
            "num_processes": cal.num_processes,
            "threads_per_process": cal.threads_per_process,
            "op_overhead_s": cal.op_overhead_s,
            "all_reduce_latency_s": small["time_s"] if small else 0.0,
            "gemm": cal.gemm,
            "attention": cal.attention,
            "memory": cal.memory,
            "all_reduce": cal.all_reduce,
            "all_gather": cal.all_gather,
        },
    }


def write_profile(path: Path, cal: Calibration) -> dict[str, Any]:
    """Write the profile TOML atomically; returns the mapping written."""
    data = profile_mapping(cal)
    write_atomic(path, dumps_toml(data))
    return data
