"""Turn the `model`/`hardware`/`parallel`/`workload` tables of a scenario or validation case into specs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalelab.core import catalog
from scalelab.core.errors import ConfigError, located
from scalelab.core.io import build, read_mapping
from scalelab.core.serve_parallel import resolve_serving_plan
from scalelab.core.specs import (
    AcceleratorSpec,
    ClusterSpec,
    InferenceWorkload,
    ModelSpec,
    ParallelPlan,
    TrainWorkload,
)
from scalelab.core.units import normalize_units


@dataclass(frozen=True)
class Scenario:
    """One prediction's inputs. `workload` is a TrainWorkload or an InferenceWorkload."""

    model: ModelSpec
    cluster: ClusterSpec
    plan: ParallelPlan
    workload: TrainWorkload | InferenceWorkload


def table(value: Any, where: str) -> dict[str, Any]:
    """`value` if it is a table (mapping), else a ConfigError naming where it was expected."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table, got {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(fields: dict[str, Any], key: str, default: Any, where: str) -> int:
    """An integer field the loader needs before validation (device counts)."""
    value = fields.pop(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where}: {key}: expected a positive integer, got {_shown(value)}")
    return value


def resolve_model(value: str | dict[str, Any], where: str = "model") -> ModelSpec:
    """A catalog id, a path (.toml/.json, HF config.json too) or an inline table (catalog_id + overrides)."""
    if isinstance(value, str):
        if Path(value).suffix in (".toml", ".json", ".yaml", ".yml"):
            return model_from_file(value)
        return catalog.load_model(value)
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a catalog id or a table")
    fields = dict(value)
    base: dict[str, Any] = {}
    if "catalog_id" in fields:
        base = dict(catalog.load_raw("models", fields["catalog_id"]))
    return build(ModelSpec, {**base, **fields}, where)


def model_from_file(path: str | Path) -> ModelSpec:
    """A ModelSpec from our TOML/JSON format or from a Hugging Face config.json."""
    from scalelab.core.hf_import import is_hf_config, model_from_hf_config

    with located(str(path)):
        data = read_mapping(path)
        if is_hf_config(data):
            return model_from_hf_config(data, where=str(path))
        return build(ModelSpec, data, str(path))


def resolve_accelerator(value: str | dict[str, Any], where: str) -> AcceleratorSpec:
    """A catalog id, a profile file, or an inline table (`base = ID` plus overrides, source units ok)."""
    if isinstance(value, str):
        if Path(value).suffix == ".toml":
            return resolve_accelerator(read_mapping(value), value)
        return catalog.load_accelerator(value)
    fields = normalize_units(dict(table(value, where)))
    base_id = fields.pop("base", None)
    base = catalog.load_accelerator(base_id).model_dump() if base_id else {}
    return build(AcceleratorSpec, {**base, **fields}, where)


def resolve_cluster(value: str | dict[str, Any], where: str = "hardware") -> ClusterSpec:
    """`h800x2048`, a path to a cluster TOML, or an inline `hardware` table."""
    if isinstance(value, str):
        if Path(value).suffix == ".toml":
            return resolve_cluster(read_mapping(value), value)
        if where == "hardware":  # a flag's value: its own text names it
            return cluster_from_string(value)
        with located(where):
            return cluster_from_string(value)
    if not isinstance(value, dict) or "accelerator" not in value:
        raise ConfigError(f"{where}: needs an 'accelerator' (catalog id or table)")
    fields = dict(value)
    with located(f"{where}: accelerator"):
        acc = resolve_accelerator(fields.pop("accelerator"), f"{where}: accelerator")
    num_devices = _count(fields, "num_devices", acc.default_devices_per_node, where)
    scale_up = _scale_up(fields.pop("scale_up", {}), acc, where)
    # an explicit scale_out table models the fabric between hosts; without one a torus link
    # (TPU ICI) is the network itself
    torus = _torus(scale_up) and "scale_out" not in fields
    per_node = _count(
        fields,
        "devices_per_node",
        _slice(scale_up, num_devices) if torus else min(acc.default_devices_per_node, num_devices),
        where,
    )
    out_table = fields.pop("scale_out", None)
    if out_table is None and torus and num_devices > per_node:
        out_table = {"kind": TORUS_SCALE_OUT}
    scale_out = _scale_out(out_table, acc, num_devices, per_node, where)
    data = {
        "accelerator": acc,
        "num_devices": num_devices,
        "devices_per_node": per_node,
        "scale_up": scale_up,
        "scale_out": scale_out,
        **normalize_units(fields),
    }
    data.setdefault("name", f"{acc.id}x{num_devices}")
    return build(ClusterSpec, data, where)


# Network between TPU slices when a job spans more chips than one ICI torus joins (multislice).
TORUS_SCALE_OUT = "dcn-tpu"


def _torus(scale_up: Any) -> bool:
    return bool(getattr(scale_up, "torus_dims", 0)) and bool(getattr(scale_up, "max_devices", None))


def _slice(scale_up: Any, num_devices: int) -> int:
    """Chips one torus (TPU ICI) slice joins: all of them up to the link's largest slice, beyond
    it the largest power of two within that cap dividing the count (slices joined by DCN)."""
    cap = int(scale_up.max_devices)
    if num_devices <= cap:
        return num_devices
    slice_ = 1 << (cap.bit_length() - 1)  # largest power of two within the cap
    while slice_ > 1 and num_devices % slice_:
        slice_ //= 2
    return slice_


def _scale_up(value: Any, acc: AcceleratorSpec, where: str) -> Any:
    fields = normalize_units(dict(table(value, f"{where}: scale_up")))
    kind = fields.pop("kind", acc.scale_up_kind or "pcie5")
    if kind in catalog.list_ids("interconnects"):
        with located(f"{where}: scale_up"):
            return catalog.load_link(kind, **fields)
    if (
        acc.scale_up_bandwidth_bytes_per_s_per_direction
        and "bandwidth_bytes_per_s_per_direction" not in fields
    ):
        fields["bandwidth_bytes_per_s_per_direction"] = (
            acc.scale_up_bandwidth_bytes_per_s_per_direction
        )
    return {"kind": kind, **fields}


def _scale_out(
    value: Any, acc: AcceleratorSpec, num_devices: int, per_node: int, where: str
) -> Any:
    if value is None:
        if num_devices <= per_node or acc.default_scale_out is None:
            return None
        return catalog.load_network(acc.default_scale_out, nics_per_node=per_node)
    # One NIC per device unless the table says otherwise (HGX and NVL72 trays alike; TPU DCN per chip).
    fields = {
        "nics_per_node": per_node,
        **normalize_units(dict(table(value, f"{where}: scale_out"))),
    }
    kind = fields.pop("kind", acc.default_scale_out or "ib-ndr")
    if kind in catalog.list_ids("interconnects"):
        with located(f"{where}: scale_out"):
            return catalog.load_network(kind, **fields)
    return {"kind": kind, **fields}


_CLUSTER_RE = re.compile(r"^(?P<acc>[a-z0-9.\-]+?)x(?P<n>\d+)$")


def cluster_from_string(text: str) -> ClusterSpec:
    """`h800x2048` -> 2048 H800 in the catalog's default nodes and network."""
    match = _CLUSTER_RE.match(text.strip().lower())
    if match is None:
        raise ConfigError(
            f"cluster '{text}': expected ACCELERATOR_IDxCOUNT, e.g. h800-sxm5-80gbx2048 or a .toml file"
        )
    acc_id = _expand_accelerator_id(match.group("acc"))
    return resolve_cluster({"accelerator": acc_id, "num_devices": int(match.group("n"))}, text)


def _expand_accelerator_id(short: str) -> str:
    """Accept unambiguous prefixes such as `h800` for `h800-sxm5-80gb`."""
    ids = catalog.list_ids("accelerators")
    if short in ids:
        return short
    matches = [i for i in ids if i.startswith(short)]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(f"unknown accelerator '{short}' (known: {', '.join(ids)})")


def resolve_plan(value: dict[str, Any] | None, where: str = "parallel") -> ParallelPlan:
    return build(ParallelPlan, dict(table(value or {}, where)), where)


def resolve_train_workload(value: dict[str, Any], where: str = "workload") -> TrainWorkload:
    return build(TrainWorkload, normalize_units(dict(table(value, where))), where)


# Latency targets as users write them (`tpot_ms = 50` normalizes to `tpot_s`) -> workload fields.
TARGET_ALIASES = {"tpot_s": "tpot_target_s", "ttft_s": "ttft_target_s"}


def resolve_inference_workload(value: dict[str, Any], where: str = "workload") -> InferenceWorkload:
    fields = normalize_units(dict(table(value, where)))
    for alias, name in TARGET_ALIASES.items():
        if alias in fields:
            if name in fields:
                raise ConfigError(f"{where}: both {alias} and {name} given; write one of them")
            fields[name] = fields.pop(alias)
    return build(InferenceWorkload, fields, where)


# Keys a validation case carries beside the scenario tables (scalelab-validation/1 schema).
CASE_KEYS = ("id", "kind", "note", "source", "status", "expect", "tolerance_frac")


def load_scenario(data: dict[str, Any], phase: str, where: str = "scenario") -> Scenario:
    """Build a Scenario from a dict with `model`, `hardware`, `parallel`, `workload` tables."""
    for key in data:
        if key not in ("model", "hardware", "parallel", "workload") + CASE_KEYS:
            raise ConfigError(f"{where}: unknown table '{key}'")
    for key in ("model", "hardware", "workload"):
        if key not in data:
            raise ConfigError(f"{where}: missing table '{key}'")
    with located(f"{where}: model"):
        model = resolve_model(data["model"], f"{where}: model")
    with located(f"{where}: hardware"):
        cluster = resolve_cluster(data["hardware"], f"{where}: hardware")
    if phase == "train":
        if isinstance(data.get("parallel"), dict) and "replicas" in data["parallel"]:
            raise ConfigError(
                f"{where}: parallel.replicas is a serving field; training counts replicas with dp"
            )
        plan = resolve_plan(data.get("parallel"), f"{where}: parallel")
        workload: TrainWorkload | InferenceWorkload = resolve_train_workload(
            data["workload"], f"{where}: workload"
        )
    else:
        plan = resolve_serving_plan(data.get("parallel"), f"{where}: parallel")
        workload = resolve_inference_workload(data["workload"], f"{where}: workload")
    return Scenario(model=model, cluster=cluster, plan=plan, workload=workload)


def load_scenario_file(path: str | Path, phase: str) -> Scenario:
    with located(str(path)):
        return load_scenario(read_mapping(path), phase, str(path))
