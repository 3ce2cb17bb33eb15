"""Expert-parallel dispatch and combine (one layer, one micro-batch, one device) in the two kernel
styles of DeepEP (deepseek-ai/DeepEP, V1 README "Normal kernels" and "Low-latency kernels"):

* low-latency (decode): every (token, expert) copy goes straight to its expert's device ("direct
  point-to-point transfers over IB", DeepSeek-V3 TR Sec 3.4.2): node peers over NVLink, other
  nodes over RDMA, both at once; the own device's copies are not sent.
* high-throughput (prefill, training): a token crosses the network once per destination node
  (to the GPU of the same local index) and is forwarded over NVLink to each destination rank
  (TR Sec 3.2.2); copies are deduplicated per rank. The kernels move every received copy, the own
  rank's included, through SM-driven NVLink buffers, so the NVLink volume counts them all.

Time = max(NVLink bytes / NVLink rate, RDMA bytes / per-device NIC rate) + one latency per tier.
The bandwidths a DeepEP benchmark reports ("bottleneck bandwidth") are logical bytes / time:
low-latency counts every copy; normal internode counts a token once per destination node, the
own node included; normal intranode counts every received copy (tests/test_*.py of DeepEP).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ClusterSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.comm import CommTiers, all_to_all_time_s, comm_tiers, group_layout

Array = NDArray[np.float64]
Style = Literal["high-throughput", "low-latency"]

# Fine-grained quantization carries one fp32 scale per 128 values (DeepSeek-V3 TR Sec 3.3.1, 1x128
# activation tiles; DeepEP's FP8 dispatch sends the scales with the payload).
QUANT_BLOCK_VALUES = 128
SCALE_BYTES = 4.0


def wire_bytes_per_value(dtype: str) -> float:
    """Bytes on the wire per activation value: the dtype, plus the block scales of 8-bit/4-bit formats."""
    scale = SCALE_BYTES / QUANT_BLOCK_VALUES if dtype in ("fp8", "int8", "int4", "fp4") else 0.0
    return dtype_bytes(dtype) + scale


@dataclass(frozen=True)
class EpComm:
    """Seconds of one dispatch and one combine (one layer, one micro-batch, one device)."""

    dispatch_s: Array
    combine_s: Array
    scale_out_bytes: Array  # bytes this device sends over the scale-out network (both phases)

    @property
    def total_s(self) -> Array:
        return self.dispatch_s + self.combine_s


def ep_tiers(
    cluster: ClusterSpec, group_size: int, bandwidth_bytes_per_s: float | None, ignore_latency: bool
) -> CommTiers:
    """Tiers for an EP group. `bandwidth_bytes_per_s` (a case's per-device EP bandwidth) replaces the
    achievable bandwidth of the tier that carries the bulk: scale-out if the group spans nodes."""
    tiers = comm_tiers(cluster)
    if bandwidth_bytes_per_s is not None:
        if group_size > cluster.devices_per_node:
            tiers = replace(tiers, out_bytes_per_s=bandwidth_bytes_per_s)
        else:
            tiers = replace(tiers, up_bytes_per_s=bandwidth_bytes_per_s)
    if ignore_latency:
        tiers = replace(tiers, up_latency_s=0.0, out_latency_s=0.0)
    return tiers


def destination_nodes(nodes: float, copies: int, node_limit: int | None) -> tuple[float, float]:
    """(distinct destination nodes of a token, of which other nodes) when its `copies` experts are
    uniform over `nodes` nodes, or over `node_limit` nodes it picks first (node-limited routing,
    TR Sec 2.1.2: at most 4 nodes): M (1 - (1 - 1/M)^k) nodes; the own node is among the M picked
    with probability M / N."""
    n = float(nodes)
    m = float(min(node_limit, nodes)) if node_limit is not None else n
    reached = 1.0 - (1.0 - 1.0 / m) ** copies
    dest = m * reached
    return dest, dest - (m / n) * reached


def destination_ranks(group: int, copies: int) -> float:
    """Distinct ranks a token's `copies` experts land on, uniform over `group` ranks."""
    return group * (1.0 - (1.0 - 1.0 / group) ** copies)


def low_latency_s(
    tokens: ArrayLike, copies: int, per_copy_bytes: float, group: int, tiers: CommTiers
) -> tuple[Array, Array]:
    """(seconds, bytes over scale-out) of one low-latency dispatch or combine (perf/comm.py all-to-all:
    own copies unsent, node peers' over NVLink in parallel with the rest over RDMA)."""
    t = np.asarray(tokens, dtype=float)
    rpn, _ = group_layout(group, 1, tiers.devices_per_node)
    nbytes = t * copies * per_copy_bytes
    seconds = all_to_all_time_s(nbytes, group, rpn, tiers)
    return np.asarray(seconds, dtype=float), nbytes * (group - rpn) / group


def high_throughput_s(
    tokens: ArrayLike,
    copies: int,
    per_copy_bytes: float,
    group: int,
    tiers: CommTiers,
    node_limit: int | None,
) -> tuple[Array, Array]:
    """(seconds, bytes over scale-out) of one high-throughput dispatch or combine: RDMA once per
    remote destination node, NVLink for every received copy deduplicated per rank."""
    t = np.asarray(tokens, dtype=float)
    rpn, nodes = group_layout(group, 1, tiers.devices_per_node)
    nvl = t * destination_ranks(group, copies) * per_copy_bytes
    rdma = np.zeros_like(t)
    if float(nodes) > 1:
        rdma = t * destination_nodes(float(nodes), copies, node_limit)[1] * per_copy_bytes
    up = np.where(float(rpn) > 1, nvl / tiers.up_bytes_per_s + tiers.up_latency_s, 0.0)
    out = np.where(rdma > 0, rdma / tiers.out_bytes_per_s + tiers.out_latency_s, 0.0)
    return np.where(group > 1, np.maximum(up, out), 0.0), rdma


def ep_comm_time_s(
    tokens_per_device: ArrayLike,
    copies_per_token: int,
    hidden: int,
    group_size: int,
    tiers: CommTiers,
    dispatch_dtype: str,
    combine_dtype: str,
    style: Style = "low-latency",
    node_limit: int | None = None,
) -> EpComm:
    """Dispatch sends each token's `copies_per_token` copies (hidden values in `dispatch_dtype` + scales);
    combine returns them in `combine_dtype`. Zhao et al. ISCA'25 Sec 2.3.2: time = tokens x copies x
    hidden x bytes / bandwidth per phase (low-latency style)."""
    out = []
    for dtype in (dispatch_dtype, combine_dtype):
        per_copy = hidden * wire_bytes_per_value(dtype)
        if style == "low-latency":
            out.append(
                low_latency_s(tokens_per_device, copies_per_token, per_copy, group_size, tiers)
            )
        else:
            out.append(
                high_throughput_s(
                    tokens_per_device, copies_per_token, per_copy, group_size, tiers, node_limit
                )
            )
    (disp, disp_out), (comb, comb_out) = out
    return EpComm(disp, comb, np.asarray(disp_out + comb_out, dtype=float))


@dataclass(frozen=True)
class A2aBandwidth:
    """One EP all-to-all as a DeepEP benchmark reports it (per device, SI units)."""

    style: str
    dispatch_s: float
    combine_s: float
    dispatch_bytes_per_s: float  # logical bytes / time, DeepEP's "bottleneck bandwidth"
    combine_bytes_per_s: float
    bottleneck: str  # "NVLink" or "RDMA"
    message_bytes: float  # one token copy in the dispatch dtype (one RDMA/NVLink message)
    nodes: int


def _copies(
    style: Style, tokens: float, topk: int, group: int, rpn: float, nodes: float, limit: int | None
) -> tuple[float, float, float]:
    """(copies DeepEP's benchmark counts, copies over NVLink, copies over RDMA) per device."""
    if style == "low-latency":
        return (
            tokens * topk,
            tokens * topk * (rpn - 1) / group,
            tokens * topk * (group - rpn) / group,
        )
    nvl = tokens * destination_ranks(group, topk)
    if nodes > 1:
        dest, remote = destination_nodes(nodes, topk, limit)
        return tokens * dest, nvl, tokens * remote
    return nvl, nvl, 0.0


def ep_all_to_all(
    cluster: ClusterSpec,
    group_size: int,
    tokens_per_device: float,
    topk: int,
    hidden: int,
    dispatch_dtype: str = "fp8",
    combine_dtype: str = "bf16",
    style: Style = "high-throughput",
    node_limit: int | None = None,
) -> A2aBandwidth:
    """Dispatch and combine of `tokens_per_device` tokens with `topk` experts each over an EP group
    of `group_size` devices of `cluster` (NVLink inside a node, the node's NICs across nodes)."""
    tiers = comm_tiers(cluster)
    comm = ep_comm_time_s(
        tokens_per_device,
        topk,
        hidden,
        group_size,
        tiers,
        dispatch_dtype,
        combine_dtype,
        style,
        node_limit,
    )
    rpn, nodes = (float(x) for x in group_layout(group_size, 1, cluster.devices_per_node))
    logical, nvl, rdma = _copies(style, tokens_per_device, topk, group_size, rpn, nodes, node_limit)
    slower_rdma = rdma / tiers.out_bytes_per_s >= nvl / tiers.up_bytes_per_s
    disp_s, comb_s = float(comm.dispatch_s), float(comm.combine_s)
    return A2aBandwidth(
        style,
        disp_s,
        comb_s,
        logical * hidden * wire_bytes_per_value(dispatch_dtype) / disp_s,
        logical * hidden * wire_bytes_per_value(combine_dtype) / comb_s,
        "RDMA" if nodes > 1 and slower_rdma else "NVLink",
        hidden * wire_bytes_per_value(dispatch_dtype),
        int(nodes),
    )
