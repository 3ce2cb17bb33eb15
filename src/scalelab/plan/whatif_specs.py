"""What-if targets: turn a SPEC (`h800x2048`, a cluster TOML, or a preset such as `photonic` or
`cim`) into a cluster with its scale-out topology applied, plus the assumptions it rests on, each
with its source. Used by `plan/whatif.py`; no printing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scalelab.core import catalog
from scalelab.core.errors import ConfigError, ScalelabError
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import AcceleratorSpec, ClusterSpec
from scalelab.hw.scaleout import DEFAULT_SWITCH_RADIX, apply_topology, effective_scale_out
from scalelab.perf.energy import peak_power_ratios

PHOTONIC_LINK = "photonic-link"
# Presets answered by a device-class model (hw/emerging.py) instead of the cluster models.
EMERGING_PRESETS = {"cim": "cim-analog", "fpga": "fpga-brainwave"}
# Scale-out presets: the baseline cluster with its scale-out network replaced by this interconnect.
NETWORK_PRESETS = {"photonic": PHOTONIC_LINK}
PRESETS = (*NETWORK_PRESETS, *EMERGING_PRESETS)
ALIASES = {"gb200-nvl72": "gb200", "nvl72": "gb200"}
_SPEC_RE = re.compile(r"^(?P<acc>[a-z0-9.\-]+?)x(?P<n>\d+)$")


@dataclass(frozen=True)
class Target:
    """One row of a what-if: a cluster as specified (`applied()` folds in its topology), or an
    emerging device class. `notes` are the assumptions the SPEC itself adds."""

    label: str
    cluster: ClusterSpec | None
    emerging_accelerator: str | None
    notes: tuple[str, ...]

    def applied(self, num_devices: int | None = None) -> ClusterSpec:
        """The cluster (resized to `num_devices`, whole nodes, if given) with its topology's
        oversubscription and latency written into scale_out (hw/scaleout.apply_topology)."""
        if self.cluster is None:
            raise ConfigError(f"'{self.label}' is a device class, not a cluster")
        return apply_topology(resize(self.cluster, num_devices))


def resize(cluster: ClusterSpec, num_devices: int | None) -> ClusterSpec:
    """The same cluster with `num_devices` rounded down to whole nodes (fewer than a node: one
    partial node, as `resolve_cluster` builds it)."""
    if num_devices is None or num_devices == cluster.num_devices:
        return cluster
    per_node = cluster.devices_per_node
    n = num_devices // per_node * per_node
    update: dict[str, object] = {"num_devices": n}
    if n == 0:
        update = {"num_devices": num_devices, "devices_per_node": num_devices, "scale_out": None}
    update["name"] = f"{cluster.accelerator.id}x{update['num_devices']}"
    return cluster.model_copy(update=update)


def _accelerator_id(short: str, spec: str) -> str:
    short = ALIASES.get(short, short)
    ids = catalog.list_ids("accelerators")
    matches = [short] if short in ids else [i for i in ids if i.startswith(short)]
    if len(matches) != 1:
        raise ConfigError(
            f"spec '{spec}': unknown accelerator '{short}' (known: {', '.join(ids)}; "
            f"presets: {', '.join(PRESETS)})"
        )
    return matches[0]


def _source(kind: str, cid: str, key: str) -> str:
    """The catalog's source (or assumption, so marked) for a field."""
    raw = catalog.load_raw(kind, cid)
    for table in ("sources", "assumptions"):
        for k, text in raw.get(table, {}).items():
            if key.startswith(k) or k.startswith(key):
                mark = table == "assumptions" and not str(text).lower().startswith("assumption")
                return f"assumption: {text}" if mark else str(text)
    return "catalog"


def _ici_torus(acc_id: str, n: int) -> dict[str, object]:
    """TPU pods have no NIC network: chips are joined by ICI in a 3D torus. Modeled as a
    scale-out 'network' of one port per chip at the chip's ICI bandwidth over a torus-3d."""
    acc = catalog.load_accelerator(acc_id)
    link = catalog.load_link(acc.scale_up_kind or "pcie5")
    per_node = min(acc.default_devices_per_node, n)
    return {
        "kind": f"{link.kind}-torus",
        "nics_per_node": per_node,
        "nic_bytes_per_s": link.bandwidth_bytes_per_s_per_direction,
        "latency_s": link.latency_s,
        "topology": "torus-3d",
    }


def _count_cluster(spec: str) -> tuple[ClusterSpec, list[str]]:
    match = _SPEC_RE.match(spec.strip().lower())
    if match is None:
        raise ConfigError(
            f"spec '{spec}': expected ACCELERATORxCOUNT (e.g. h800x2048), a cluster .toml file, "
            f"or a preset ({', '.join(PRESETS)})"
        )
    acc_id = _accelerator_id(match.group("acc"), spec)
    acc = catalog.load_accelerator(acc_id)
    asked = int(match.group("n"))
    per_node = acc.default_devices_per_node
    n = asked if asked <= per_node else asked // per_node * per_node
    notes = []
    if n != asked:
        notes.append(
            f"{asked:,} is not a whole number of {per_node}-device nodes: {n:,} devices "
            f"({n // per_node} nodes) used"
        )
    table: dict[str, object] = {"accelerator": acc_id, "num_devices": n}
    if n > per_node and acc.default_scale_out is None:
        table["scale_out"] = _ici_torus(acc_id, n)
        notes.append(
            f"no NIC network: every chip's ICI ({acc.scale_up_kind}) joins a 3D torus; collectives "
            "use its uniform all-to-all bandwidth (pessimistic for ring all-reduce)"
        )
    elif n > per_node:
        # One scale-out NIC per device: DGX H100/H800 (8 ConnectX-7 for 8 GPUs) and GB200 NVL72
        # compute trays (4 ConnectX per 4 GPUs), NVIDIA reference architectures.
        table["scale_out"] = {"kind": acc.default_scale_out, "nics_per_node": per_node}
    try:
        return resolve_cluster(table, f"spec '{spec}'"), notes
    except ScalelabError as exc:
        raise ConfigError(f"spec '{spec}': {exc}") from None


def _price_source(acc: AcceleratorSpec) -> str:
    """The catalog's source for the price, or the flag that replaced it."""
    if acc.id in catalog.list_ids("accelerators"):
        if catalog.load_accelerator(acc.id).price_usd_per_hour != acc.price_usd_per_hour:
            return "set by --price-usd-per-hour"
    return _source("accelerators", acc.id, "price")


def describe_cluster(cluster: ClusterSpec, radix: int = DEFAULT_SWITCH_RADIX) -> list[str]:
    """Assumption lines for a cluster as specified: devices, price, power, scale-up, and the
    scale-out network with what its topology does to it."""
    acc = cluster.accelerator
    frac = peak_power_ratios()[2]
    idle = f"idle {acc.idle_w:g} W" if acc.idle_w else f"idle {frac:.1%} of TDP (H200's fraction)"
    lines = [
        f"{cluster.num_devices:,} x {acc.id}, {cluster.devices_per_node} per node; "
        f"${acc.price_usd_per_hour:g}/device-hour ({_price_source(acc)}); "
        f"TDP {acc.tdp_w:g} W, {idle}; PUE {cluster.pue:g}; "
        f"{cluster.grid_co2_kg_per_kwh:g} kg CO2/kWh",
        f"scale-up {cluster.scale_up.kind} "
        f"{cluster.scale_up.bandwidth_bytes_per_s_per_direction / 1e9:,.0f} GB/s per direction",
    ]
    net = cluster.scale_out
    if net is not None and cluster.num_nodes > 1:
        eff = effective_scale_out(cluster, radix)
        shape = "" if eff.topology.startswith("torus") else f" (radix {radix})"
        lines.append(
            f"scale-out {net.kind} {net.nic_bytes_per_s * 8 / 1e9:,.0f} Gbit/s x {net.nics_per_node}"
            f"/node on {eff.topology}{shape}: "
            f"{eff.bytes_per_s_per_device / 1e9:,.1f} GB/s "
            f"per device, oversubscription {eff.oversubscription_ratio:.2f}, "
            f"{eff.hops} switches, {eff.latency_s * 1e6:.1f} us"
            + (f"; {eff.note}" if eff.note else "")
        )
    return lines


def _photonic(baseline: Target) -> Target:
    if baseline.cluster is None or baseline.cluster.scale_out is None:
        raise ConfigError("preset 'photonic' needs a baseline cluster with a scale-out network")
    base = baseline.cluster
    old = base.scale_out
    assert old is not None
    net = catalog.load_network(
        PHOTONIC_LINK, nics_per_node=old.nics_per_node, topology=old.topology, planes=old.planes
    )
    cluster = base.model_copy(update={"scale_out": net, "name": f"{base.name}+photonic"})
    note = (
        f"photonic: scale-out {old.kind} replaced by {PHOTONIC_LINK} "
        f"({net.nic_bytes_per_s * 8 / 1e9:,.0f} Gbit/s per port per direction, "
        f"{(net.energy_j_per_bit or 0) * 1e12:g} pJ/bit; "
        f"{_source('interconnects', PHOTONIC_LINK, 'nic_gbit_per_s')}; "
        f"latency {_source('interconnects', PHOTONIC_LINK, 'latency_us')}); same ports per node "
        f"and topology as the baseline"
    )
    return Target("photonic", cluster, None, (note,))


def _emerging(name: str) -> Target:
    acc_id = EMERGING_PRESETS[name]
    acc = catalog.load_accelerator(acc_id)
    note = (
        f"{name}: {acc.name} as a device class (hw/emerging.py, every parameter in catalog "
        f"accelerators/{acc_id}.toml with its source or assumption); as many chips as hold the "
        f"weights; ${acc.price_usd_per_hour:g}/chip-hour ({_source('accelerators', acc_id, 'price')})"
    )
    return Target(name, None, acc_id, (note,))


def resolve_target(spec: str, baseline: Target | None = None) -> Target:
    """A SPEC as a Target; ConfigError (one line naming the spec) if it cannot be read."""
    text = spec.strip()
    key = text.lower()
    if key in NETWORK_PRESETS:
        if baseline is None:
            raise ConfigError(f"spec '{spec}': a preset cannot be the baseline")
        return _photonic(baseline)
    if key in EMERGING_PRESETS:
        return _emerging(key)
    if Path(text).suffix == ".toml":
        try:
            cluster, notes = resolve_cluster(text), [f"cluster file {text}"]
        except ScalelabError as exc:
            raise ConfigError(f"spec '{spec}': {exc}") from None
    else:
        cluster, notes = _count_cluster(text)
    try:
        apply_topology(cluster)  # a topology too small for the cluster is the spec's error
    except ScalelabError as exc:
        raise ConfigError(f"spec '{spec}': {exc}") from None
    return Target(text, cluster, None, tuple(notes))


def resolve_targets(baseline: str, vs: list[str]) -> list[Target]:
    """The baseline first, then each `vs` SPEC (presets are relative to the baseline)."""
    base = resolve_target(baseline)
    if base.cluster is None:
        raise ConfigError(f"--baseline '{baseline}': the baseline must be a cluster, not a preset")
    return [base, *(resolve_target(s, base) for s in vs)]
