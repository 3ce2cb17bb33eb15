"""How one layer's compute and expert-parallel communication add up in time, with and without the
two-micro-batch overlap of DeepSeek and SGLang (TBO).

With two micro-batches, each micro-batch's attention runs while the other's dispatch is in flight
and its experts while the other's combine is ("overlapping the attention and MoE of one
micro-batch with the dispatch and combine of another", DeepSeek-V3 TR Sec 3.4.1): a layer costs
2 x [max(attention side, dispatch) + max(expert side, combine)], not 2 x max(compute, comm).
The compute side also carries what the communication kernels take from it:
* high-throughput (DeepEP normal) kernels hold 24 SMs while they run (DeepEP README usage:
  `Buffer.set_num_sms(24)`), so overlapped compute runs on the other SMs;
* low-latency kernels free the SMs while data is in flight (deepseek-ai/profile-data README) but
  their send and receive phases run on the compute stream: SGLang measured 0.06 ms of SM time for
  one dispatch of 128 tokens x 8 experts per GPU (LMSYS blog 2025-05-05, decode breakdown); the
  combine is assumed to cost the same per copy.
High-throughput dispatch also needs a permutation into the contiguous expert layout and back (SGLang
adds a Triton permute kernel for DeepGEMM's contiguous layout, same blog), memory-bound here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scalelab.core.specs import AcceleratorSpec
from scalelab.perf.kernels.timing import memory_bound_time_s
from scalelab.perf.serve.ep import EpComm, Style, wire_bytes_per_value

Array = NDArray[np.float64]

HT_COMM_SMS = 24  # SMs a DeepEP normal-kernel dispatch/combine holds
LL_SM_S_PER_COPY = 0.06e-3 / (128 * 8)  # SGLang: 0.06 ms for 128 tokens x 8 experts


def glue_s(
    acc: AcceleratorSpec, recv_rows: Array, hidden: int, dispatch_dtype: str, style: Style
) -> Array:
    """Permute received copies into the contiguous expert layout (dispatch dtype, read + write)
    and back (bf16, read + write); low-latency kernels write the masked layout directly."""
    if style != "high-throughput":
        return np.zeros_like(recv_rows)
    per_row = hidden * (2.0 * wire_bytes_per_value(dispatch_dtype) + 2.0 * 2.0)
    return np.asarray(memory_bound_time_s(recv_rows * per_row, acc, "copy"), dtype=float)


def compute_slowdown(acc: AcceleratorSpec, style: Style) -> float:
    """Compute time factor while high-throughput kernels hold HT_COMM_SMS SMs (1 if unknown)."""
    units = acc.num_compute_units
    if style != "high-throughput" or not units or units <= HT_COMM_SMS:
        return 1.0
    return units / (units - HT_COMM_SMS)


def layer_time_s(
    attn_side: Array,
    expert_side: Array,
    tp_s: Array,
    ep: EpComm | None,
    dual: bool,
    style: Style,
    acc: AcceleratorSpec,
    copies: Array,
) -> tuple[Array, Array]:
    """(layer seconds for all micro-batches, compute seconds among them) of one layer.
    `attn_side`/`expert_side`: compute of one micro-batch before/after dispatch; `copies`: token
    copies this device sends per micro-batch (low-latency SM time); TP collectives are not
    overlapped."""
    n_mb = 2 if dual else 1
    compute = attn_side + expert_side + tp_s
    if ep is None:
        return n_mb * compute, n_mb * compute
    if not dual:
        return compute + ep.total_s, compute
    slow = compute_slowdown(acc, style)
    sm = LL_SM_S_PER_COPY * copies if style == "low-latency" else np.zeros_like(copies)
    busy = np.asarray(attn_side + expert_side, dtype=float) > 0  # no SM time without compute
    sm = np.where(busy, sm, 0.0)
    first = attn_side * slow + tp_s + sm
    second = expert_side * slow + sm
    layer = n_mb * (np.maximum(first, ep.dispatch_s) + np.maximum(second, ep.combine_s))
    return layer, n_mb * (first + second)
