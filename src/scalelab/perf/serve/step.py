"""One decode step and one prefill pass of a serving instance, summed over layers from the operator
model (perf/serve/ops.py) and the collectives of perf/comm.py.

A micro-batch runs through every layer; with dual micro-batch overlap two micro-batches alternate so
that one's dispatch/combine hides behind the other's attention and experts, and a layer costs
2 x max(compute, communication) (DeepSeek-V3 TR Sec 3.4.2; Zhao et al. ISCA'25 Sec 2.3.2);
without it a layer costs compute + communication. Arrays broadcast over sequence counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.comm import all_reduce_time_s, comm_tiers, p2p_time_s
from scalelab.perf.kernels.timing import launch_time_s
from scalelab.perf.serve.ep import EpComm, Style, ep_comm_time_s, ep_tiers
from scalelab.perf.serve.kv import kv_elems_per_token_layer, kv_shard_frac
from scalelab.perf.serve.layout import Layout, copies_per_token
from scalelab.perf.serve.ops import (
    attention_gemm_s,
    decode_attention_s,
    experts_s,
    ffn_dense_s,
    kernels_per_layer,
    linear_time_s,
    prefill_attention_s,
    router_s,
    small_kernels_s,
)
from scalelab.perf.serve.overlap import glue_s, layer_time_s

Array = NDArray[np.float64]


@dataclass(frozen=True)
class StepTimes:
    """One pass of the instance (all layers, all micro-batches), seconds per component."""

    step_s: Array
    attention_s: Array  # projections + attention core
    ffn_s: Array  # dense FFN, router, experts
    other_s: Array  # norms, residual adds, LM head, MTP modules' extra GEMMs
    tp_comm_s: Array
    ep_comm_s: Array  # dispatch + combine, all layers and micro-batches
    pp_comm_s: Array
    ep_comm_s_per_layer_step: Array  # one dispatch + one combine of one micro-batch
    exposed_comm_s: Array  # communication not hidden behind compute
    ep_scale_out_bytes: Array  # per device per step
    rows_per_microbatch: Array  # tokens one attention group runs per micro-batch


def ep_style(w: InferenceWorkload, prefill: bool) -> Style:
    """DeepEP's high-throughput kernels in prefill, low-latency ones in decode (SGLang pairs them so
    under PD disaggregation, LMSYS blog 2025-05-05), unless the workload names one."""
    if w.ep_kernel != "auto":
        return w.ep_kernel
    return "high-throughput" if prefill else "low-latency"


def _zero_if(flag: bool, x: Array) -> Array:
    return np.zeros_like(x) if flag else x


def _active_groups(m: ModelSpec, slots: int, group_tokens: Array) -> Array:
    """Expected routed experts on a device that receive at least one token, when `group_tokens` tokens
    each pick k of E experts uniformly: slots * (1 - (1 - k/E)^T). Unused experts' weights stay unread."""
    e, k = m.num_routed_experts, m.num_experts_per_token
    return slots * (1.0 - (1.0 - k / e) ** np.maximum(group_tokens, 0.0))


def _moe_ffn_s(
    m: ModelSpec, lay: Layout, wd: str, cluster: ClusterSpec, rows: Array, tokens: Array
) -> Array:
    """Router + experts of one MoE layer on one device; `tokens` = this device's tokens after SP."""
    acc, ffn = cluster.accelerator, m.moe_ffn_hidden_size or 0
    group_tokens = tokens * lay.stage_devices
    if lay.ep <= 1:  # every expert on every device, TP-sharded over the moe_tp devices
        group_rows = rows * max(lay.moe_tp, lay.tp) / lay.tp  # tokens of every attention group
        shard = max(lay.moe_tp, lay.tp)
        routed = experts_s(
            m,
            lay,
            wd,
            acc,
            group_rows * m.num_experts_per_token,
            _active_groups(m, m.num_routed_experts, group_rows),
            ffn,
            shard,
        )
        shared = experts_s(
            m, lay, wd, acc, group_rows * m.num_shared_experts, m.num_shared_experts, ffn, shard
        )
        return router_s(m, acc, rows) + routed + np.where(m.num_shared_experts > 0, shared, 0.0)
    slots = lay.expert_slots - (0 if lay.shared_dispatched else m.num_shared_experts)
    routed_rows = tokens * copies_per_token(m, lay)
    routed = experts_s(m, lay, wd, acc, routed_rows, _active_groups(m, slots, group_tokens), ffn)
    if not lay.shared_dispatched and m.num_shared_experts:
        routed = routed + experts_s(
            m, lay, wd, acc, tokens * m.num_shared_experts, m.num_shared_experts, ffn
        )
    return router_s(m, acc, tokens) + routed


def _dense_ffn_s(
    m: ModelSpec, lay: Layout, wd: str, cluster: ClusterSpec, rows: Array, tokens: Array
) -> Array:
    if (
        lay.dense_slices
    ):  # expert-width slices placed on the EP group, every token visits all of them
        groups = math.ceil(lay.dense_slices / lay.stage_devices)
        return experts_s(
            m,
            lay,
            wd,
            cluster.accelerator,
            tokens * lay.dense_slices,
            groups,
            m.moe_ffn_hidden_size or 0,
        )
    return ffn_dense_s(m, lay.tp, wd, cluster.accelerator, rows)


@dataclass(frozen=True)
class _Pass:
    """What one pass needs besides the layout: rows and contexts of one micro-batch."""

    n_seq: Array  # sequences per attention group per micro-batch
    q_len: Array  # new tokens per sequence
    ctx: Array  # context tokens each new token attends to (decode) / prompt length (prefill)
    prefill: bool


@dataclass(frozen=True)
class _LayerTimes:
    """One layer, one micro-batch, one device (seconds) and what the overlap model needs."""

    attn: Array
    ffn: Array
    small: Array
    tp: Array
    ep: EpComm | None
    glue: Array  # permutation into/out of the contiguous expert layout
    copies: Array  # token copies this device sends (low-latency SM time)
    style: Style


def _ep_comm(
    m: ModelSpec,
    lay: Layout,
    w: InferenceWorkload,
    cluster: ClusterSpec,
    tokens: Array,
    moe: bool,
    style: Style,
) -> tuple[EpComm, Array]:
    copies = copies_per_token(m, lay) if moe else lay.dense_slices
    ep = ep_comm_time_s(
        tokens,
        copies,
        m.hidden_size,
        lay.stage_devices,
        ep_tiers(cluster, lay.stage_devices, w.scale_out_bandwidth_bytes_per_s, w.ignore_latency),
        w.dispatch_dtype,
        w.combine_dtype,
        style=style,
        node_limit=w.limited_groups,
    )
    # The busiest device of the group receives 1 / balance of the mean traffic.
    hot = 1.0 / w.expert_balance_frac
    ep = EpComm(ep.dispatch_s * hot, ep.combine_s * hot, ep.scale_out_bytes)
    return ep, tokens * copies


def _layer(
    m: ModelSpec, lay: Layout, w: InferenceWorkload, cluster: ClusterSpec, ps: _Pass, moe: bool
) -> _LayerTimes:
    """Seconds of one layer for one micro-batch on one device, by component."""
    acc, wd, kvd = cluster.accelerator, w.dtype, w.kv_dtype or "bf16"
    rows = ps.n_seq * ps.q_len
    tokens = rows / lay.tp
    if ps.prefill:
        attn = attention_gemm_s(m, lay.tp, wd, acc, rows, ps.n_seq * ps.ctx) + prefill_attention_s(
            m, lay.tp, acc, ps.n_seq, ps.q_len, ps.ctx
        )
    else:
        attn = attention_gemm_s(m, lay.tp, wd, acc, rows, rows) + decode_attention_s(
            m, lay.tp, kvd, acc, ps.n_seq, ps.q_len, ps.ctx
        )
    ffn = (_moe_ffn_s if moe else _dense_ffn_s)(m, lay, wd, cluster, rows, tokens)
    small = small_kernels_s(m, acc, rows)
    ep_layer = lay.ep > 1 and (moe or lay.dense_slices > 0)
    tiers = comm_tiers(cluster)
    if w.ignore_latency:
        tiers = replace(tiers, up_latency_s=0.0, out_latency_s=0.0)
    n_ar = 1 if ep_layer else 2  # RS + AG around dispatch/combine = one all-reduce (Megatron SP)
    tp_comm = n_ar * all_reduce_time_s(
        rows * m.hidden_size * 2.0, lay.tp, min(lay.tp, cluster.devices_per_node), tiers
    )
    if moe and lay.ep <= 1 and lay.moe_tp > lay.tp:
        # Experts TP-sharded over the dp x tp stage: all-gather every group's tokens before the
        # experts, reduce-scatter after (vLLM's data-parallel MoE without expert parallelism).
        group = lay.moe_tp
        tp_comm = tp_comm + all_reduce_time_s(
            rows * lay.attn_dp * m.hidden_size * 2.0,
            group,
            min(group, cluster.devices_per_node),
            tiers,
        )
    style = ep_style(w, ps.prefill)
    ep, copies, glue = None, np.zeros_like(rows), np.zeros_like(rows)
    if ep_layer:
        ep, copies = _ep_comm(m, lay, w, cluster, tokens, moe, style)
        glue = glue_s(acc, copies, m.hidden_size, w.dispatch_dtype, style) / w.expert_balance_frac
        ffn = ffn / w.expert_balance_frac if moe else ffn
    no_c = w.ignore_compute
    return _LayerTimes(
        _zero_if(no_c, attn),
        _zero_if(no_c, ffn),
        _zero_if(no_c, small),
        np.asarray(tp_comm, dtype=float),
        ep,
        _zero_if(no_c, glue),
        copies,
        style,
    )


def run_pass(
    m: ModelSpec,
    lay: Layout,
    w: InferenceWorkload,
    cluster: ClusterSpec,
    n_seq: ArrayLike,
    q_len: ArrayLike,
    ctx: ArrayLike,
    prefill: bool,
    mtp_modules: int = 0,
) -> StepTimes:
    """All layers for `n_seq` sequences per attention group per micro-batch (and as many micro-batches as
    the overlap uses), plus the LM head, `mtp_modules` MTP drafts and pipeline sends."""
    ps = _Pass(
        np.asarray(n_seq, dtype=float),
        np.asarray(q_len, dtype=float),
        np.asarray(ctx, dtype=float),
        prefill,
    )
    n_mb = 2 if lay.dual_overlap else 1
    kinds = [(m.num_layers - m.num_moe_layers, False), (m.num_moe_layers, True)]
    mtp_kind = m.is_moe
    acc = cluster.accelerator
    tot = {
        k: np.zeros_like(ps.n_seq)
        for k in ("attn", "ffn", "small", "tp", "ep", "step", "exposed", "bytes")
    }
    ep_one = np.zeros_like(ps.n_seq)
    for count, moe in [*kinds, (mtp_modules, mtp_kind)]:
        if count == 0:
            continue
        lt = _layer(m, lay, w, cluster, ps, moe)
        ep_s = lt.ep.total_s if lt.ep is not None else np.zeros_like(lt.tp)
        if lt.ep is not None:
            ep_one = ep_s
            tot["bytes"] = tot["bytes"] + count * n_mb * lt.ep.scale_out_bytes
        layer, busy = layer_time_s(
            lt.attn + lt.small / 2,
            lt.ffn + lt.small / 2 + lt.glue,
            lt.tp,
            lt.ep,
            lay.dual_overlap,
            lt.style,
            acc,
            lt.copies,
        )
        for key, val in (
            ("attn", lt.attn),
            ("ffn", lt.ffn + lt.glue),
            ("small", lt.small),
            ("tp", lt.tp),
            ("ep", ep_s),
        ):
            tot[key] = tot[key] + count * n_mb * val
        tot["step"] = tot["step"] + count * layer
        tot["exposed"] = tot["exposed"] + count * np.maximum(layer - busy, 0.0)
    rows = ps.n_seq * ps.q_len
    head_rows = ps.n_seq if prefill else rows
    head = (
        n_mb
        * (1 + mtp_modules)
        * linear_time_s(head_rows, m.vocab_size / lay.tp, m.hidden_size, w.dtype, acc)
    )
    head = head + n_mb * mtp_modules * linear_time_s(
        rows, m.hidden_size, 2 * m.hidden_size, w.dtype, acc
    )
    head = _zero_if(w.ignore_compute, head)
    pp_comm = _pp_comm_s(m, lay, cluster, rows / lay.tp) * n_mb
    gpu = tot["step"] + head + pp_comm
    if (
        prefill or not lay.cuda_graphs
    ):  # the host launches asynchronously; the slower side sets the pace
        kernels = n_mb * (m.num_layers + mtp_modules) * kernels_per_layer(m) + 4
        gpu = np.maximum(gpu, launch_time_s(kernels, cuda_graphs=False, acc=cluster.accelerator))
    return StepTimes(
        gpu,
        tot["attn"],
        tot["ffn"],
        tot["small"] + head,
        tot["tp"],
        tot["ep"],
        pp_comm,
        ep_one,
        tot["exposed"] + pp_comm,
        tot["bytes"],
        rows,
    )


def _pp_comm_s(m: ModelSpec, lay: Layout, cluster: ClusterSpec, tokens: Array) -> Array:
    """(pp - 1) activation sends between stages, bf16 hidden states of this device's tokens."""
    if lay.pp <= 1:
        return np.zeros_like(tokens)
    cross = lay.stage_devices >= cluster.devices_per_node
    return (lay.pp - 1) * p2p_time_s(tokens * m.hidden_size * 2.0, cross, comm_tiers(cluster))


def kv_transfer_s(
    m: ModelSpec, lay: Layout, cluster: ClusterSpec, prompt_tokens: int, kv_dtype: str
) -> float:
    """Prefill-to-decode KV handoff of one request: each prefill device sends its layers' share of the
    prompt's KV over the scale-out network in parallel (DistServe, Zhong et al. OSDI'24 Sec 4)."""
    per_device = (
        prompt_tokens
        * kv_elems_per_token_layer(m)
        * dtype_bytes(kv_dtype)
        * m.num_layers
        / lay.pp
        * kv_shard_frac(m, lay.tp)
    )
    return float(p2p_time_s(per_device, True, comm_tiers(cluster)))
