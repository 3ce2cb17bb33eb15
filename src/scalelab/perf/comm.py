"""Collective communication: latency-bandwidth (alpha-beta) costs on two tiers, hierarchical algorithms.

A group of `group_size` ranks has `ranks_per_node` members inside each node (scale-up: NVLink/PCIe)
and spans `group_size / ranks_per_node` nodes (scale-out: NICs). Collectives on groups that span
nodes run hierarchically: the scale-up phase moves the full volume, the scale-out phase moves a
1/ranks_per_node shard per device, each device using its own share of the node's NICs (NCCL ring
and tree algorithms; Thakur et al. IJHPCA 2005 for the alpha-beta costs). All functions accept
numpy arrays and return seconds; bytes are the full tensor size per device unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ClusterSpec

Array = NDArray[np.float64]

# Achievable fraction of nominal per-direction bandwidth for large NCCL collectives. Assumption
# from published nccl-tests bus bandwidths: ~230-240 of 300 GB/s on DGX A100 NVLink3, ~360-370 of
# 450 GB/s on DGX H100 NVLink4, ~40-45 of 50 GB/s per 400G NDR NIC (NVIDIA nccl-tests results).
SCALE_UP_ACHIEVABLE_FRAC = 0.8
SCALE_OUT_ACHIEVABLE_FRAC = 0.8


@dataclass(frozen=True)
class CommTiers:
    """Per-device achievable bandwidths (bytes/s, one direction) and per-step latencies of both tiers."""

    up_bytes_per_s: float
    up_latency_s: float
    out_bytes_per_s: float
    out_latency_s: float
    devices_per_node: int


def comm_tiers(
    cluster: ClusterSpec,
    up_frac: float = SCALE_UP_ACHIEVABLE_FRAC,
    out_frac: float = SCALE_OUT_ACHIEVABLE_FRAC,
) -> CommTiers:
    """Tiers of a cluster: NVLink per device; the node's NIC bandwidth shared by its devices,
    divided by the network's oversubscription ratio."""
    up_frac = cluster.scale_up.achievable_frac or up_frac
    up = cluster.scale_up.bandwidth_bytes_per_s_per_direction * up_frac
    net = cluster.scale_out
    if net is None:
        out, out_lat = up, cluster.scale_up.latency_s
    else:
        per_device = net.nic_bytes_per_s * net.nics_per_node / cluster.devices_per_node
        out = per_device * (net.achievable_frac or out_frac) / net.oversubscription_ratio
        out_lat = net.latency_s
    return CommTiers(up, cluster.scale_up.latency_s, out, out_lat, cluster.devices_per_node)


def group_layout(
    group_size: ArrayLike, stride: ArrayLike, devices_per_node: int
) -> tuple[Array, Array]:
    """(ranks_per_node, num_nodes) of a group of ranks r0, r0+stride, ... laid out node-major."""
    g = np.asarray(group_size, dtype=float)
    s = np.asarray(stride, dtype=float)
    per_node = np.clip(np.floor(devices_per_node / s), 1.0, g)
    return per_node, np.ceil(g / per_node)


def _phase(nbytes: Array, members: Array, bw: float, lat: float) -> Array:
    """Ring reduce-scatter or all-gather among `members` ranks of `nbytes` total: (p-1)/p * S / bw."""
    return np.where(members > 1, (members - 1) / members * nbytes / bw + (members - 1) * lat, 0.0)


def all_gather_time_s(
    nbytes: ArrayLike, group_size: ArrayLike, ranks_per_node: ArrayLike, tiers: CommTiers
) -> Array:
    """All-gather producing `nbytes` per device: scale-out phase on 1/ranks_per_node shards, then scale-up."""
    s = np.asarray(nbytes, dtype=float)
    r = np.asarray(ranks_per_node, dtype=float)
    nodes = np.asarray(group_size, dtype=float) / r
    return _phase(s / r, nodes, tiers.out_bytes_per_s, tiers.out_latency_s) + _phase(
        s, r, tiers.up_bytes_per_s, tiers.up_latency_s
    )


def reduce_scatter_time_s(
    nbytes: ArrayLike, group_size: ArrayLike, ranks_per_node: ArrayLike, tiers: CommTiers
) -> Array:
    """Reduce-scatter of `nbytes` per device (same traffic as all-gather, reversed)."""
    return all_gather_time_s(nbytes, group_size, ranks_per_node, tiers)


def all_reduce_time_s(
    nbytes: ArrayLike, group_size: ArrayLike, ranks_per_node: ArrayLike, tiers: CommTiers
) -> Array:
    """All-reduce = reduce-scatter + all-gather: 2 (p-1)/p S / bw per tier (bandwidth-optimal ring)."""
    return 2.0 * all_gather_time_s(nbytes, group_size, ranks_per_node, tiers)


def all_to_all_time_s(
    nbytes: ArrayLike,
    group_size: ArrayLike,
    ranks_per_node: ArrayLike,
    tiers: CommTiers,
    scale_out_bytes: ArrayLike | None = None,
) -> Array:
    """All-to-all where each device sends `nbytes` spread evenly over the group: (r-1)/g of it over
    scale-up, (g-r)/g over scale-out, both tiers in parallel. `scale_out_bytes` overrides the
    scale-out volume (node-limited routing that sends each token once per destination node)."""
    s = np.asarray(nbytes, dtype=float)
    g = np.asarray(group_size, dtype=float)
    r = np.asarray(ranks_per_node, dtype=float)
    inter = s * (g - r) / g if scale_out_bytes is None else np.asarray(scale_out_bytes, dtype=float)
    intra = s * (r - 1) / g
    lat = np.where(g > r, tiers.out_latency_s, 0.0) + np.where(r > 1, tiers.up_latency_s, 0.0)
    t = np.maximum(intra / tiers.up_bytes_per_s, inter / tiers.out_bytes_per_s) + lat
    return np.where(g > 1, t, 0.0)


def p2p_time_s(nbytes: ArrayLike, cross_node: ArrayLike, tiers: CommTiers) -> Array:
    """One point-to-point send of `nbytes` between neighbours, over scale-out if `cross_node`."""
    s = np.asarray(nbytes, dtype=float)
    x = np.asarray(cross_node, dtype=bool)
    bw = np.where(x, tiers.out_bytes_per_s, tiers.up_bytes_per_s)
    lat = np.where(x, tiers.out_latency_s, tiers.up_latency_s)
    return np.where(s > 0, s / bw + lat, 0.0)


def expected_remote_nodes(
    num_nodes: ArrayLike, experts_per_token: int, node_limit: int | None
) -> Array:
    """Distinct other nodes a token is sent to when its experts are uniform over `num_nodes` nodes:
    n (1 - (1 - 1/n)^k) destinations, capped at the routing's node limit, minus the own node's share."""
    n = np.asarray(num_nodes, dtype=float)
    dest = n * (1.0 - (1.0 - 1.0 / n) ** experts_per_token)
    if node_limit is not None:
        dest = np.minimum(dest, float(node_limit))
    return dest * (n - 1.0) / n
