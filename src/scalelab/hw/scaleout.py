"""What a cluster's scale-out topology does to each device: effective bandwidth under all-to-all
traffic, oversubscription, switch hops and latency. The training/inference models call this (or
`apply_topology`, which folds the result into the ClusterSpec they already read)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalelab.core.errors import ConfigError
from scalelab.core.specs import ClusterSpec
from scalelab.hw.topology import SWITCH_HOP_LATENCY_S, Topology, build_topology, canonical_name

# ASSUMPTION: 64-port switches, as NVIDIA Quantum-2 (NDR) and Zhao et al. ISCA'25 Table 3.
DEFAULT_SWITCH_RADIX = 64
# ASSUMPTION: the catalog's end-to-end latencies (e.g. ib-ndr 5 us) were seen on two-level trees
# (3 switches on the longest path); deeper networks add SWITCH_HOP_LATENCY_S per extra switch.
REFERENCE_SWITCHES = 3


@dataclass(frozen=True)
class ScaleOutEffect:
    """Per-device view of the scale-out network. `bytes_per_s_per_device` is per direction."""

    topology: str
    num_endpoints: int
    injection_bytes_per_s_per_device: float
    bytes_per_s_per_device: float
    oversubscription_ratio: float
    hops: int  # switches on the longest shortest path
    latency_s: float
    note: str = ""

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Unpacks as (bytes_per_s_per_device, oversubscription_ratio, hops)."""
        return iter((self.bytes_per_s_per_device, self.oversubscription_ratio, self.hops))


def _sized(
    name: str, endpoints: int, planes: int, radix: int, link_gbit: float
) -> tuple[Topology, str]:
    """The named topology if it holds `endpoints`; fat-trees escalate to three levels if not."""
    key = canonical_name(name)
    if key == "fat-tree-2" and planes > 1:
        key = "multi-plane-fat-tree"
    if key.startswith("torus"):
        dims = 2 if key == "torus-2d" else 3
        k = max(2, math.ceil(endpoints ** (1 / dims) - 1e-9))
        return build_topology(key, k, 1, link_gbit), ""
    topo = build_topology(key, radix, planes, link_gbit)
    if topo.num_endpoints >= endpoints:
        return topo, ""
    if key in ("fat-tree-2", "multi-plane-fat-tree"):
        deeper = build_topology("fat-tree-3", radix, planes, link_gbit)
        if deeper.num_endpoints >= endpoints:
            return deeper, (
                f"{key} of radix {radix} holds {topo.num_endpoints} endpoints, "
                f"{endpoints} needed: a three-level fat-tree is assumed"
            )
    raise ConfigError(
        f"{key} of radix {radix} connects at most {topo.num_endpoints:,} endpoints; "
        f"this cluster needs {endpoints:,} (choose a larger radix or another topology)"
    )


def effective_scale_out(
    cluster: ClusterSpec, switch_radix: int = DEFAULT_SWITCH_RADIX
) -> ScaleOutEffect:
    """Scale-out bandwidth per device (bytes/s, per direction) under uniform all-to-all traffic,
    the oversubscription it implies (the larger of the spec's taper and the topology's own), the
    switch hops on the longest path, and the end-to-end latency. One node: zero bandwidth."""
    net = cluster.scale_out
    if net is None or cluster.num_nodes == 1:
        return ScaleOutEffect("none", 0, 0.0, 0.0, 1.0, 0, 0.0, "single node: no scale-out network")
    endpoints = cluster.num_nodes * net.nics_per_node
    topo, note = _sized(
        net.topology, endpoints, net.planes, switch_radix, net.nic_bytes_per_s * 8 / 1e9
    )
    injection = net.nics_per_node * net.nic_bytes_per_s / cluster.devices_per_node
    ratio = max(net.oversubscription_ratio, topo.oversubscription_ratio)
    extra_switches = topo.diameter_switches - REFERENCE_SWITCHES
    latency = max(net.latency_s + extra_switches * SWITCH_HOP_LATENCY_S, 0.0)
    return ScaleOutEffect(
        topo.name,
        endpoints,
        injection,
        injection / ratio,
        ratio,
        topo.diameter_switches,
        latency,
        note or topo.note,
    )


def apply_topology(cluster: ClusterSpec, switch_radix: int = DEFAULT_SWITCH_RADIX) -> ClusterSpec:
    """The same cluster with the topology's oversubscription and latency written into
    `scale_out`, so models in `perf` (which may not import `hw`) see its effect."""
    if cluster.scale_out is None:
        return cluster
    effect = effective_scale_out(cluster, switch_radix)
    if effect.num_endpoints == 0:
        return cluster
    net = cluster.scale_out.model_copy(
        update={
            "oversubscription_ratio": effect.oversubscription_ratio,
            "latency_s": effect.latency_s,
        }
    )
    return cluster.model_copy(update={"scale_out": net})
