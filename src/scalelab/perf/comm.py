"""Collective communication: latency-bandwidth (alpha-beta) costs on two tiers, and on a torus.

A group of `group_size` ranks has `ranks_per_node` members inside each node (scale-up: NVLink/PCIe)
and spans `group_size / ranks_per_node` nodes (scale-out: NICs). All-gather, reduce-scatter and
all-reduce are NCCL rings (NCCL src/graph/tuning.cc models them so; Thakur et al. IJHPCA 2005 for
the alpha-beta costs). Bandwidth: a node's r ranks share its NICs, each carrying 1/r of the volume
that crosses nodes, plus the volume moved inside the node over NVLink; the two are charged one
after the other, as a hierarchical collective would (measured DP synchronization, e.g. DeepSeek-V3's
0.29 s optimizer phase, is not faster than that). Latency: a ring pays one step latency per hop,
p - n NVLink hops and n - 1 network hops for p ranks on n nodes, which is what makes collectives
over thousands of ranks latency-bound; launch and step latencies and each protocol's bandwidth share
are NCCL's own (tuning.cc), the fastest protocol for the size taken. On a torus scale-up domain (TPU ICI) a group forms a sub-torus
and runs bidirectional rings along each of its dimensions at once (Chan et al., "Collective
communication: theory, practice, and experience", CCPE 2007, the bucket algorithm on a d-D torus).
All functions accept numpy arrays and return seconds; bytes are the full tensor size per device
unless stated.
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
    torus: tuple[int, ...] = ()  # dimension sizes of a torus scale-up domain (TPU ICI), else ()


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
    link = cluster.scale_up
    shape = torus_shape(cluster.devices_per_node, link.torus_dims) if link.torus_dims else ()
    return CommTiers(up, link.latency_s, out, out_lat, cluster.devices_per_node, shape)


def torus_shape(num_devices: int, dims: int) -> tuple[int, ...]:
    """Sizes of a `dims`-D torus of `num_devices` chips, as close to a cube as powers of two allow
    (TPU slices: 4x4x4, 8x16x16, ...), smallest first."""
    sizes = [1] * dims
    n = max(int(num_devices), 1)
    while n > 1:
        i = sizes.index(min(sizes))
        factor = 2 if n % 2 == 0 else n
        sizes[i] *= factor
        n //= factor
    return tuple(sorted(sizes))


def group_layout(
    group_size: ArrayLike, stride: ArrayLike, devices_per_node: int
) -> tuple[Array, Array]:
    """(ranks_per_node, num_nodes) of a group of ranks r0, r0+stride, ... laid out node-major."""
    g = np.asarray(group_size, dtype=float)
    s = np.asarray(stride, dtype=float)
    per_node = np.clip(np.floor(devices_per_node / s), 1.0, g)
    return per_node, np.ceil(g / per_node)


# NCCL's own ring model (src/graph/tuning.cc, v2.8: baseLat and hwLat of the Ring algorithm), per
# protocol: (launch latency, per-step latency inside a node over NVLink, per-step latency across
# the network, share of the link bandwidth the protocol reaches). NCCL picks the fastest protocol
# for each size: LL for small messages, Simple for large ones.
NCCL_RING_PROTOCOLS = (
    (3.6e-6, 0.47e-6, 2.7e-6, 0.25),  # LL: 8-byte flag per 8 bytes of data
    (10.0e-6, 1.9e-6, 4.0e-6, 0.92),  # LL128
    (8.4e-6, 3.4e-6, 9.6e-6, 1.0),  # Simple
)


def _ring(
    nbytes: Array, group: Array, ranks_per_node: Array, tiers: CommTiers, passes: float = 1.0
) -> Array:
    """`passes` ring all-gather (or reduce-scatter) passes producing `nbytes` per device."""
    g = np.maximum(group, 1.0)
    r = np.minimum(np.maximum(ranks_per_node, 1.0), g)
    n = g / r
    nvlink = (r - 1.0) / r * nbytes / tiers.up_bytes_per_s
    nic = np.where(n > 1, (n - 1.0) / n * nbytes / r, 0.0) / tiers.out_bytes_per_s
    timed = tiers.up_latency_s > 0 or tiers.out_latency_s > 0  # 0: latency deliberately ignored
    best = np.full(np.broadcast(nbytes, g).shape, np.inf)
    for base, intra, inter, share in NCCL_RING_PROTOCOLS:
        latency = (base + passes * ((g - n) * intra + (n - 1.0) * inter)) * timed
        best = np.minimum(best, passes * (nvlink + nic) / share + latency)
    if tiers.torus:
        torus = passes * _torus_pass(nbytes, g, tiers)
        best = np.where(n > 1, best, torus)
    return np.where((g > 1) & (nbytes > 0), best, 0.0)  # nothing to move: no collective


def _torus_dims_of(group: Array, tiers: CommTiers) -> tuple[Array, Array]:
    """(dimensions spanned, ring steps along them) of a group laid out as a compact sub-torus."""
    dims, steps, covered = np.zeros_like(group), np.zeros_like(group), np.ones_like(group)
    for size in tiers.torus:
        use = np.clip(group / covered, 1.0, float(size))
        grow = use > 1.0
        dims = dims + grow
        steps = steps + np.where(grow, use - 1.0, 0.0)
        covered = covered * use
    return np.maximum(dims, 1.0), steps


def _torus_pass(nbytes: Array, group: Array, tiers: CommTiers) -> Array:
    """Bucket all-gather on a sub-torus: bidirectional rings along each spanned dimension share
    the volume, two links per dimension (each chip has 2 x torus-dims links)."""
    dims, steps = _torus_dims_of(group, tiers)
    link = tiers.up_bytes_per_s / (2.0 * len(tiers.torus))
    bw = 2.0 * dims * link
    return (group - 1.0) / group * nbytes / bw + steps * tiers.up_latency_s


def all_gather_time_s(
    nbytes: ArrayLike, group_size: ArrayLike, ranks_per_node: ArrayLike, tiers: CommTiers
) -> Array:
    """All-gather producing `nbytes` per device (a ring; on a torus domain, the bucket algorithm)."""
    s = np.asarray(nbytes, dtype=float)
    g = np.asarray(group_size, dtype=float)
    return _ring(s, g, np.asarray(ranks_per_node, dtype=float), tiers)


def reduce_scatter_time_s(
    nbytes: ArrayLike, group_size: ArrayLike, ranks_per_node: ArrayLike, tiers: CommTiers
) -> Array:
    """Reduce-scatter of `nbytes` per device (same traffic as all-gather, reversed)."""
    return all_gather_time_s(nbytes, group_size, ranks_per_node, tiers)


def all_reduce_time_s(
    nbytes: ArrayLike, group_size: ArrayLike, ranks_per_node: ArrayLike, tiers: CommTiers
) -> Array:
    """All-reduce = reduce-scatter + all-gather: one launch of two ring passes (bandwidth-optimal)."""
    s = np.asarray(nbytes, dtype=float)
    g = np.asarray(group_size, dtype=float)
    return _ring(s, g, np.asarray(ranks_per_node, dtype=float), tiers, passes=2.0)


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
    up = intra / tiers.up_bytes_per_s + lat
    if tiers.torus:
        # on a torus a message crosses a quarter of each spanned ring on average (bidirectional)
        dims, steps = _torus_dims_of(np.maximum(r, 1.0), tiers)
        hops = np.maximum(steps / dims / 4.0, 1.0)
        link = tiers.up_bytes_per_s / (2.0 * len(tiers.torus))
        up = intra * hops / (2.0 * dims * link) + hops * dims * tiers.up_latency_s
    t = np.maximum(up, inter / tiers.out_bytes_per_s + lat)
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
