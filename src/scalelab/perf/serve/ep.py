"""Expert-parallel dispatch and combine for one layer and one micro-batch (perf/comm.py all-to-all).

Decode uses DeepEP-style low-latency transfers: every token copy goes straight to the device of its
expert ("direct point-to-point transfers over IB", DeepSeek-V3 TR Sec 3.4.2), so the scale-out
volume is copies x (g - r)/g. Prefill uses node-deduplicated transfers (a token crosses the network
once per destination node and is forwarded over NVLink, DeepSeek-V3 TR Sec 3.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ClusterSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.comm import (
    CommTiers,
    all_to_all_time_s,
    comm_tiers,
    expected_remote_nodes,
    group_layout,
)

Array = NDArray[np.float64]

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


def ep_comm_time_s(
    tokens_per_device: ArrayLike,
    copies_per_token: int,
    hidden: int,
    group_size: int,
    tiers: CommTiers,
    dispatch_dtype: str,
    combine_dtype: str,
    dedupe_nodes: bool = False,
    node_limit: int | None = None,
) -> EpComm:
    """Dispatch sends each token's `copies_per_token` copies (hidden values in `dispatch_dtype` + scales);
    combine returns them in `combine_dtype`. Zhao et al. ISCA'25 Sec 2.3.2: time = tokens x copies x
    hidden x bytes / bandwidth per phase, with the own device's share sent nowhere."""
    t = np.asarray(tokens_per_device, dtype=float)
    rpn, nodes = group_layout(group_size, 1, tiers.devices_per_node)
    out = []
    for dtype in (dispatch_dtype, combine_dtype):
        per_copy = hidden * wire_bytes_per_value(dtype)
        nbytes = t * copies_per_token * per_copy
        inter = None
        if dedupe_nodes and float(nodes) > 1:
            inter = t * expected_remote_nodes(nodes, copies_per_token, node_limit) * per_copy
        out.append(
            (
                all_to_all_time_s(nbytes, group_size, rpn, tiers, inter),
                nbytes * (group_size - rpn) / group_size if inter is None else inter,
            )
        )
    (disp, disp_out), (comb, comb_out) = out
    return EpComm(
        np.asarray(disp, dtype=float),
        np.asarray(comb, dtype=float),
        np.asarray(disp_out + comb_out, dtype=float),
    )
