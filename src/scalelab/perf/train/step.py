"""One training step of N plans at once: per-layer passes with their overlap rules, explicit pipeline
placement and schedule, data-parallel synchronization and the optimizer update.

What hides behind what (the overlap model):
- TP collectives are exposed (Megatron-LM issues them between GEMMs) unless the plan lists
  `tp-comm-overlap`, which hides TP_OVERLAP_FRAC of them.
- CP ring exchange hides behind the attention kernel of the same block (Liu et al. 2023, ring attention).
- EP all-to-all is exposed, except under DualPipe or two-micro-batch overlap, where one micro-batch's
  communication overlaps another's computation: pair time = max(C, X) + (1 - EP_OVERLAP_FRAC) min(C, X).
- PP sends are exposed once per micro-batch and chunk in 1F1B-type schedules, hidden under DualPipe.
- DP gradient reduction overlaps the backward of the last micro-batch; ZeRO-1/2 parameter all-gather
  after the optimizer step is exposed; ZeRO-3 gathers overlap each micro-batch's compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelab.core.specs import ClusterSpec, ModelSpec, TrainWorkload
from scalelab.perf.comm import all_gather_time_s, comm_tiers, group_layout, p2p_time_s
from scalelab.perf.kernels.timing import memory_bound_time_s
from scalelab.perf.train.layers import (
    attention_block,
    dense_ffn_block,
    embedding_block,
    head_block,
    merge_compute,
    moe_block,
    mtp_rest_block,
)
from scalelab.perf.train.memory import MemoryArrays, layer_params, memory_per_device
from scalelab.perf.train.ops import Array, Block, StepContext, make_context
from scalelab.perf.train.passes import PassTimes, combine, layer_times, pass_times, scale
from scalelab.perf.train.plan_arrays import SCHED_DUALPIPE, PlanArrays
from scalelab.perf.train.schedules import bubble_time_s, dualpipe_time_s, in_flight_micro_batches
from scalelab.perf.train.stages import FIRST, Placement, place_layers

# Bytes AdamW touches per locally-updated parameter: read bf16 grad (2) + fp32 master, m, v (12),
# write master, m, v (12) + bf16 weight copy (2). Derived from the ZeRO state layout (Sec 3.1).
OPTIMIZER_BYTES_PER_PARAM = 28.0
# Gradients are reduced in fp32 (Megatron-LM: bf16 training implies --accumulate-allreduce-grads-in-fp32);
# parameters are all-gathered in bf16 after a sharded (ZeRO-1/2) optimizer step.
GRAD_COMM_BYTES = 4.0
PARAM_COMM_BYTES = 2.0


@dataclass(frozen=True)
class StepArrays:
    """Per-plan step time and its parts (seconds); per-micro-batch times are of the slowest device."""

    step_time_s: Array
    num_micro: Array
    f_s: Array
    b_s: Array
    w_s: Array
    breakdown_s: dict[str, Array]
    memory: MemoryArrays
    placement: Placement


def _ffn_blocks(ctx: StepContext) -> list[Block]:
    """The FFN block of each layer type present: dense FFN and/or MoE."""
    m = ctx.model
    out = []
    if m.num_dense_ffn_layers:
        out.append(dense_ffn_block(ctx, m.dense_ffn or 0))
    if m.is_moe:
        out.append(moe_block(ctx))
    return out


def _worst_layer(ctx: StepContext, attn: Block, ffns: list[Block]) -> tuple[PassTimes, Block]:
    """Pass times of the slower layer type (dense-FFN or MoE) per plan, and its activations."""
    times = [layer_times(attn, f, ctx) for f in ffns]
    blocks = [_saved(ctx, attn, f) for f in ffns]
    if len(times) == 1:
        return times[0], blocks[0]
    slower = times[1].total >= times[0].total
    return combine(slower, times[1], times[0]), _pick_block(slower, blocks[1], blocks[0])


def _saved(ctx: StepContext, *parts: Block) -> Block:
    out = Block(ctx)
    for part in parts:
        merge_compute(out, part)
    return out


def _pick_block(sel: np.ndarray, a: Block, b: Block) -> Block:
    out = Block(a.ctx)
    for name in ("saved", "droppable"):
        setattr(out, name, np.where(sel, getattr(a, name), getattr(b, name)))
    return out


def _activation_bytes(blk: Block, ctx: StepContext) -> Array:
    """Saved activations of one block per micro-batch under the plan's recompute mode."""
    rc = ctx.p.recompute
    layer_input = ctx.norm_tokens * ctx.model.hidden_size * 2.0
    return np.select(
        [rc == 2, rc == 1], [layer_input, blk.saved - blk.droppable], default=blk.saved
    )


def _dp_sync_s(ctx: StepContext, dense_params: Array, expert_params: Array) -> tuple[Array, Array]:
    """(gradient reduction, parameter gather) seconds per step: dense parameters over dp x cp
    (stride tp), routed experts over the expert-data-parallel group (stride ep). ZeRO-0 all-reduces
    the gradients; ZeRO >= 1 reduce-scatters them and all-gathers the updated bf16 parameters."""
    p, dpn = ctx.p, ctx.tiers.devices_per_node
    dense_g = (p.dp * p.cp).astype(float)
    edp = (p.dp * p.tp * p.cp / p.ep).astype(float)
    r_dense, _ = group_layout(dense_g, ctx.tp, dpn)
    r_exp, _ = group_layout(edp, ctx.ep, dpn)

    def gather(nbytes_per_param: float) -> Array:
        return all_gather_time_s(
            dense_params * nbytes_per_param, dense_g, r_dense, ctx.tiers
        ) + all_gather_time_s(expert_params * nbytes_per_param, edp, r_exp, ctx.tiers)

    reduce = gather(GRAD_COMM_BYTES) * np.where(
        p.zero == 0, 2.0, 1.0
    )  # all-reduce = 2 x reduce-scatter
    return reduce, np.where(p.zero == 0, 0.0, gather(PARAM_COMM_BYTES))


def _dp_exposed_s(
    p: PlanArrays, reduce: Array, param_gather: Array, num_micro: Array, dev: PassTimes
) -> Array:
    """Exposed data-parallel time: overlapped only with `dp-comm-overlap` (gradient reduction behind
    the last micro-batch's backward, parameter gather behind the first forward); ZeRO-3 gathers
    weights for every micro-batch's forward and backward and overlaps them with its compute."""
    window = np.where(p.dp_overlap, dev.b + dev.w, 0.0)
    fwd_window = np.where(p.dp_overlap, dev.f, 0.0)
    stage12 = np.maximum(reduce - window, 0.0) + np.maximum(param_gather - fwd_window, 0.0)
    per_micro = 2.0 * param_gather + reduce
    stage3 = num_micro * np.maximum(per_micro - (dev.f + dev.b + dev.w), 0.0)
    return np.where(p.zero >= 3, stage3, stage12)


def evaluate_step(
    model: ModelSpec, cluster: ClusterSpec, workload: TrainWorkload, p: PlanArrays
) -> StepArrays:
    """Step time, breakdown and memory of every plan in `p` (plans must pass plan_check)."""
    ctx = make_context(
        model,
        cluster.accelerator,
        comm_tiers(cluster),
        p,
        workload.seq_len,
        workload.causal_attention,
    )
    attn, ffns = attention_block(ctx), _ffn_blocks(ctx)
    layer, layer_blk = _worst_layer(ctx, attn, ffns)
    emb_blk, head_blk = embedding_block(ctx), head_block(ctx)
    emb, head = pass_times(emb_blk, ctx), pass_times(head_blk, ctx)
    head_saved = head_blk.saved
    if model.mtp_depth:
        rest, ffn = mtp_rest_block(ctx), ffns[-1]  # the MTP block is MoE for MoE models
        head = head.plus(
            scale(layer_times(attn, ffn, ctx).plus(pass_times(rest, ctx)), model.mtp_depth)
        )
        head_saved = head_saved + model.mtp_depth * _activation_bytes(
            _saved(ctx, attn, ffn, rest), ctx
        )
    dual = p.schedule == SCHED_DUALPIPE

    # Balance stages on what the schedule charges per micro-batch: the overlapped F&B pair under
    # DualPipe, F + B + W otherwise (balancing DualPipe on unoverlapped times picks layouts the
    # schedule then runs slower, and makes a faster network able to slow the step).
    def charged(t: PassTimes) -> Array:
        return np.where(dual, t.fb, t.total)

    place = place_layers(
        model.num_layers,
        p.pp,
        dual,
        charged(layer),
        charged(emb),
        charged(head),
        split_times=(layer.total, emb.total, head.total),
    )
    dev = (
        scale(layer, place.layers)
        .plus(scale(emb, place.embed_share))
        .plus(scale(head, place.head_share))
    )
    num_micro = (workload.global_batch_size // (p.dp * p.microbatch)).astype(float)
    pp_bytes = ctx.norm_tokens * model.hidden_size * 2.0
    cross = (p.tp * p.cp * p.dp) >= ctx.tiers.devices_per_node
    t_p2p = np.where(p.pp > 1, p2p_time_s(pp_bytes, cross, ctx.tiers), 0.0)
    dual_total, dual_bubble = dualpipe_time_s(p.pp, num_micro, dev.f, dev.b, dev.w, dev.fb)
    bubble = np.where(
        dual, dual_bubble, bubble_time_s(p.schedule, p.pp, p.virtual, dev.f, dev.b, dev.w)
    )
    pipeline = np.where(dual, dual_total, num_micro * (dev.f + dev.b + dev.w) + bubble)
    pp_exposed = np.where(dual, 0.0, num_micro * p.virtual * 2.0 * t_p2p)
    lp = layer_params(model, p)
    held = place.held_layers[:, FIRST]
    dense_params = (
        held * lp.dense
        + lp.embed * place.held_embed[:, FIRST]
        + lp.head * place.held_head[:, FIRST]
    )
    expert_params = held * lp.expert + lp.head_expert * place.held_head[:, FIRST]
    reduce, param_gather = _dp_sync_s(ctx, dense_params, expert_params)
    dp_exposed = _dp_exposed_s(p, reduce, param_gather, num_micro, dev)
    zero = p.zero
    shard_d = np.where(zero >= 1, (p.dp * p.cp).astype(float), 1.0)
    shard_e = np.where(zero >= 1, (p.dp * p.tp * p.cp / p.ep).astype(float), 1.0)
    opt_params = dense_params / shard_d + expert_params / shard_e
    optimizer = memory_bound_time_s(
        opt_params * OPTIMIZER_BYTES_PER_PARAM, cluster.accelerator, "copy"
    )
    step = pipeline + pp_exposed + dp_exposed + optimizer
    breakdown = dev.breakdown(num_micro, dual)
    breakdown.update(
        {
            "pp_comm": pp_exposed,
            "pipeline_bubble": bubble,
            "dp_comm": dp_exposed,
            "optimizer": optimizer,
        }
    )
    in_flight = in_flight_micro_batches(p.schedule, p.pp, num_micro, p.virtual)
    buffers = _buffer_bytes(ctx, pp_bytes)
    mem = memory_per_device(
        model,
        p,
        lp,
        place,
        _activation_bytes(layer_blk, ctx),
        emb_blk.saved,
        head_saved,
        in_flight,
        buffers,
    )
    return StepArrays(step, num_micro, dev.f, dev.b, dev.w, breakdown, mem, place)


def _buffer_bytes(ctx: StepContext, pp_bytes: Array) -> Array:
    """Communication buffers: EP dispatch/combine send+receive, PP send+receive (double-buffered)."""
    m = ctx.model
    ep = np.where(
        ctx.ep > 1, 2.0 * ctx.moe_tokens * m.num_experts_per_token * m.hidden_size * 2.0, 0.0
    )
    return ep + np.where(ctx.p.pp > 1, 4.0 * pp_bytes, 0.0)
