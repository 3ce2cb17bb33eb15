"""One training step of N plans at once: per-layer passes with their overlap rules, explicit pipeline
placement and schedule, data-parallel synchronization and the optimizer update.

What hides behind what (the overlap model):
- TP collectives: the forward ones are exposed (Megatron-LM issues them between GEMMs); in the
  backward, column-parallel layers reduce their input gradient behind their weight-gradient GEMM
  (perf/train/passes.py). `tp-comm-overlap` hides TP_OVERLAP_FRAC of what stays exposed.
- CP ring exchange hides behind the attention kernel of the same block (Liu et al. 2023, ring attention).
- EP all-to-all is exposed, except under DualPipe or two-micro-batch overlap, where one micro-batch's
  communication overlaps another's computation: pair time = max(C, X) + (1 - EP_OVERLAP_FRAC) min(C, X).
- PP sends are exposed once per micro-batch and chunk in 1F1B-type schedules, hidden under DualPipe.
- DP synchronization and ZeRO-3's per-layer gathers: perf/train/dp.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from scalelab.core.specs import ClusterSpec, ModelSpec, TrainWorkload
from scalelab.perf.comm import (
    all_gather_time_s,
    all_reduce_time_s,
    comm_tiers,
    group_layout,
    p2p_time_s,
)
from scalelab.perf.kernels.timing import memory_bound_time_s
from scalelab.perf.train.dp import dp_sync, reduced_grad_bytes
from scalelab.perf.train.layers import (
    attention_block,
    dense_ffn_block,
    embedding_block,
    head_block,
    merge_compute,
    moe_block,
    mtp_rest_block,
)
from scalelab.perf.train.memory import (
    LayerParams,
    MemoryArrays,
    layer_params,
    memory_per_device,
)
from scalelab.perf.train.ops import Array, Block, StepContext, make_context
from scalelab.perf.train.passes import (
    PassTimes,
    combine,
    launch_bound,
    layer_times,
    pass_times,
    scale,
)
from scalelab.perf.train.plan_arrays import RC_FULL, RC_SELECTIVE, SCHED_DUALPIPE, PlanArrays
from scalelab.perf.train.schedules import bubble_time_s, dualpipe_time_s, in_flight_micro_batches
from scalelab.perf.train.stages import FIRST, Placement, place_layers

# Bytes the optimizer step moves per locally-updated parameter (Megatron-LM's order): read the
# gradient for the global-norm clip (4), AdamW reads and writes the fp32 master weight and both
# moments and reads the gradient (4 + 24), the bf16 weight is rewritten from the master (4 + 2),
# the gradient buffer is zeroed for the next step (4): 42 with fp32 moments (ZeRO paper Sec 3.1
# layout); the fp8 recipe's bf16 moments (DeepSeek-V3 TR Sec 3.3.3) move 8 fewer.
OPTIMIZER_BYTES_PER_PARAM = 42.0
FP8_RECIPE_OPTIMIZER_BYTES_PER_PARAM = 34.0
# fp16 adds the loss-scaling work of Megatron-LM's Float16OptimizerWithFloat16Params: the fp16
# gradients copied to fp32 main gradients (read 2, write 4) and unscaled with an inf/nan check
# (read 4, write 4) (megatron/optimizer/optimizer.py, _copy_model_grads_to_main_grads and
# _unscale_main_grads_and_check_for_nan, commit aed2f75e20)
FP16_LOSS_SCALING_BYTES_PER_PARAM = 14.0


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
    dp_comm_total_s: Array  # all data-parallel traffic of the step, hidden or not
    activation_shares: dict[str, Array]  # share of each part in a layer's saved activations
    clock_frac: Array | float = 1.0  # power-limited clock fraction (perf/train/power.py)


def _ffn_blocks(ctx: StepContext) -> list[Block]:
    """The FFN block of each layer type present: dense FFN and/or MoE."""
    m = ctx.model
    out = []
    if m.num_dense_ffn_layers:
        out.append(dense_ffn_block(ctx, m.dense_ffn or 0))
    if m.is_moe:
        out.append(moe_block(ctx))
    return out


def _worst_layer(
    ctx: StepContext, attn: Block, ffns: list[Block]
) -> tuple[PassTimes, dict[str, Array], Array]:
    """Pass times of the slower layer type (dense-FFN or MoE) per plan, with its saved activation
    bytes by part and in total under the plan's recompute mode."""
    times = [layer_times(attn, f, ctx) for f in ffns]
    merged = [_merged(ctx, attn, f) for f in ffns]
    parts = [_activation_parts(b, ctx) for b in merged]
    if len(times) == 1:
        return times[0], parts[0], merged[0].saved_total
    slower = times[1].total >= times[0].total
    picked = {
        k: np.where(slower, parts[1].get(k, 0.0), parts[0].get(k, 0.0))
        for k in parts[0].keys() | parts[1].keys()
    }
    full = np.where(slower, merged[1].saved_total, merged[0].saved_total)
    return combine(slower, times[1], times[0]), picked, full


def _merged(ctx: StepContext, *parts: Block) -> Block:
    out = Block(ctx)
    for part in parts:
        merge_compute(out, part)
    return out


def _activation_parts(blk: Block, ctx: StepContext) -> dict[str, Array]:
    """Saved activations of one block per micro-batch by part under the plan's recompute mode:
    everything (none), all but the selective set (selective: Korthikanti et al. 2022 Table 2 drops
    the 5as/h attention-core term), or only the layer input (full)."""
    rc = ctx.p.recompute
    parts = {
        name: np.where(
            rc == RC_FULL,
            0.0,
            nbytes - np.where(rc == RC_SELECTIVE, blk.dropped.get(name, 0.0), 0.0),
        )
        for name, nbytes in blk.saved.items()
    }
    layer_input = ctx.norm_tokens * ctx.model.hidden_size * 2.0
    parts["layer_inputs"] = np.where(rc == RC_FULL, layer_input, 0.0)
    return parts


@dataclass(frozen=True)
class _Parts:
    """The passes of one micro-batch and the saved activations of each piece."""

    layer: PassTimes
    emb: PassTimes
    head: PassTimes
    layer_parts: dict[str, Array]  # per layer, by part, under the plan's recompute mode
    layer_full: Array  # one layer's activations without recompute (full recompute's working set)
    emb_saved: Array
    head_saved: Array


def _pieces(ctx: StepContext) -> _Parts:
    """Layer (the slower type), embedding and head (+ MTP modules) of one micro-batch."""
    model = ctx.model
    attn, ffns = attention_block(ctx), _ffn_blocks(ctx)
    layer, layer_parts, layer_full = _worst_layer(ctx, attn, ffns)
    emb_blk, head_blk = embedding_block(ctx), head_block(ctx)
    head, head_saved = pass_times(head_blk, ctx, checkpointed=False), head_blk.saved_total
    if model.mtp_depth:
        rest, ffn = mtp_rest_block(ctx), ffns[-1]  # the MTP block is MoE for MoE models
        head = head.plus(
            scale(layer_times(attn, ffn, ctx).plus(pass_times(rest, ctx)), model.mtp_depth)
        )
        mtp = _activation_parts(_merged(ctx, attn, ffn, rest), ctx)
        head_saved = head_saved + model.mtp_depth * sum(mtp.values(), np.zeros(()))
    return _Parts(
        layer,
        pass_times(emb_blk, ctx, checkpointed=False),
        head,
        layer_parts,
        layer_full,
        emb_blk.saved_total,
        head_saved,
    )


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
    pc = _pieces(ctx)
    place, dev, avg = _placed(ctx, pc)
    lp = layer_params(model, p)
    dense, expert = _held_params(ctx, lp, place)
    accumulate = _grad_accumulation_s(ctx, dense + expert)
    dev, avg = (replace(t, c_w=t.c_w + accumulate) for t in (dev, avg))
    dual = p.schedule == SCHED_DUALPIPE
    num_micro = (workload.global_batch_size // (p.dp * p.microbatch)).astype(float)
    dual_total, dual_bubble = dualpipe_time_s(p.pp, num_micro, dev.f, dev.b, dev.w, dev.fb)
    # fill and drain pass every other stage once: the average stage sets the bubble, the slowest
    # one the steady state (a last stage slowed by the head does not slow the fill)
    stage = [np.minimum(a, d) for a, d in ((avg.f, dev.f), (avg.b, dev.b), (avg.w, dev.w))]
    bubble = np.where(dual, dual_bubble, bubble_time_s(p.schedule, p.pp, p.virtual, *stage))
    pipeline = np.where(dual, dual_total, num_micro * (dev.f + dev.b + dev.w) + bubble)
    pp_exposed = np.where(dual, 0.0, num_micro * p.virtual * 2.0 * _pp_send_s(ctx))
    held = place.held_layers[:, FIRST]
    sync = dp_sync(ctx, dense, expert, held, num_micro, dev.f, dev.b + dev.w)
    tied = _tied_embedding_sync_s(ctx, lp)
    optimizer = _optimizer_s(ctx, dense, expert)
    breakdown = dev.breakdown(num_micro, dual)
    breakdown.update(
        {
            "pp_comm": pp_exposed,
            "pipeline_bubble": bubble,
            "dp_comm": sync.exposed_s + tied,
            "optimizer": optimizer,
        }
    )
    step = pipeline + pp_exposed + sync.exposed_s + tied + optimizer
    mem, shares = _memory(ctx, pc, lp, place, num_micro)
    return StepArrays(
        step, num_micro, dev.f, dev.b, dev.w, breakdown, mem, place, sync.total_s, shares
    )


def _placed(ctx: StepContext, pc: _Parts) -> tuple[Placement, PassTimes, PassTimes]:
    """Layers on stages, then one micro-batch's passes on the slowest device and on the average
    stage. Stages balance on what the schedule charges per micro-batch: the overlapped F&B pair
    under DualPipe, F + B + W otherwise (balancing DualPipe on unoverlapped times picks layouts the
    schedule then runs slower, and makes a faster network able to slow the step)."""
    p, model = ctx.p, ctx.model
    dual = p.schedule == SCHED_DUALPIPE

    def charged(t: PassTimes) -> Array:
        return np.where(dual, t.fb, t.total)

    place = place_layers(
        model.num_layers,
        p.pp,
        dual,
        charged(pc.layer),
        charged(pc.emb),
        charged(pc.head),
        split_times=(pc.layer.total, pc.emb.total, pc.head.total),
    )
    dev = launch_bound(
        scale(pc.layer, place.layers)
        .plus(scale(pc.emb, place.embed_share))
        .plus(scale(pc.head, place.head_share)),
        ctx,
    )
    avg = launch_bound(
        scale(pc.layer, model.num_layers / p.pp)
        .plus(scale(pc.emb, 1.0 / p.pp))
        .plus(scale(pc.head, 1.0 / p.pp)),
        ctx,
    )
    return place, dev, avg


def _held_params(ctx: StepContext, lp: LayerParams, place: Placement) -> tuple[Array, Array]:
    """(dense, expert) parameters the first device holds (tied embeddings once where it holds
    both ends): what its data-parallel traffic and optimizer step move."""
    held = place.held_layers[:, FIRST]
    emb_held, head_held = place.held_embed[:, FIRST], place.held_head[:, FIRST]
    tied = float(ctx.model.tied_embeddings) * emb_held * head_held * lp.embed
    dense = held * lp.dense + lp.embed * emb_held + lp.head * head_held - tied
    expert = held * lp.expert + lp.head_expert * head_held
    return dense, expert


def _memory(
    ctx: StepContext, pc: _Parts, lp: LayerParams, place: Placement, num_micro: Array
) -> tuple[MemoryArrays, dict[str, Array]]:
    """Memory of the fullest device, and each activation part's share of a layer's activations."""
    p = ctx.p
    in_flight = in_flight_micro_batches(p.schedule, p.pp, num_micro, p.virtual)
    act_layer = sum(pc.layer_parts.values(), np.zeros(()))
    mem = memory_per_device(
        ctx.model,
        p,
        lp,
        place,
        act_layer,
        pc.emb_saved,
        pc.head_saved,
        in_flight,
        _buffer_bytes(ctx),
        np.where(p.recompute == RC_FULL, pc.layer_full, 0.0),
    )
    return mem, {k: v / np.maximum(act_layer, 1.0) for k, v in pc.layer_parts.items()}


def _pp_send_s(ctx: StepContext) -> Array:
    """One activation (or gradient) crossing a stage boundary: Megatron-LM's scatter/gather
    optimization sends 1/tp of it per rank and re-gathers it over NVLink on the receiving stage
    (Narayanan et al. SC'21 Sec 4.1); with SP the activation already is that shard."""
    p, h = ctx.p, ctx.model.hidden_size
    shard = ctx.tokens / ctx.tp * h * 2.0
    cross = (p.tp * p.cp * p.dp) >= ctx.tiers.devices_per_node
    regather = np.where(
        p.sp, 0.0, all_gather_time_s(ctx.tokens * h * 2.0, ctx.tp, ctx.tp_rpn, ctx.tiers)
    )
    return np.where(p.pp > 1, p2p_time_s(shard, cross, ctx.tiers) + regather, 0.0)


def _optimizer_s(ctx: StepContext, dense_params: Array, expert_params: Array) -> Array:
    """AdamW update of the locally held (ZeRO >= 1: sharded) parameters, bandwidth-bound."""
    p = ctx.p
    shard_d = np.where(p.zero >= 1, (p.dp * p.cp).astype(float), 1.0)
    shard_e = np.where(p.zero >= 1, (p.dp * p.tp * p.cp / p.ep).astype(float), 1.0)
    local = dense_params / shard_d + expert_params / shard_e
    per_param = np.where(p.fp8, FP8_RECIPE_OPTIMIZER_BYTES_PER_PARAM, OPTIMIZER_BYTES_PER_PARAM)
    per_param = per_param + np.where(p.fp16, FP16_LOSS_SCALING_BYTES_PER_PARAM, 0.0)
    # ZeRO 0-1: the gradient buffer is scaled by 1/dp in place before its all-reduce, read and
    # written once (Megatron-LM model/distributed.py allreduce_gradients at 35a3fa8b7c, which does it
    # at dp = 1 too; PyTorch DDP's allreduce hook divides likewise)
    scale = np.where(p.zero <= 1, 2.0 * reduced_grad_bytes(p), 0.0)
    return memory_bound_time_s(local * per_param, ctx.acc, "copy") + memory_bound_time_s(
        local * scale, ctx.acc, "add"
    )


def _grad_accumulation_s(ctx: StepContext, local_params: Array) -> Array:
    """Per micro-batch, `no-grad-accumulation-fusion` adds each weight gradient (bf16) into the
    gradient buffer with its own kernel: read both, write the buffer (Megatron-LM's param hook
    `main_grad.add_(grad)`; autograd's accumulation of .grad alike). Megatron-LM's default fuses
    the add into the weight-gradient GEMM (fp32 accumulation in its epilogue), which costs no
    time of its own. ZeRO >= 2 reduces gradients as they come (no local buffer to add to)."""
    p = ctx.p
    nbytes = local_params * (2.0 * reduced_grad_bytes(p) + 2.0)
    on = p.no_grad_acc_fusion & (p.zero <= 1)
    return np.where(on, memory_bound_time_s(nbytes, ctx.acc, "add"), 0.0)


def _tied_embedding_sync_s(ctx: StepContext, lp: LayerParams) -> Array:
    """With tied embeddings and pp > 1 the first stage (embedding) and the last (LM head) hold
    copies of one weight: after the pipeline flush Megatron-LM all-reduces its gradient between
    the two (training.py, "backward-embedding-all-reduce"; Narayanan et al. SC'21 Sec 4.2 keep the
    copies in sync), exposed. The two ranks sit pp - 1 stage strides (tp x cp x dp ranks) apart."""
    p = ctx.p
    stride = (p.tp * p.cp * p.dp).astype(float) * np.maximum(p.pp - 1, 1)
    per_node, _ = group_layout(2.0, stride, ctx.tiers.devices_per_node)
    nbytes = lp.embed * reduced_grad_bytes(p)
    t = all_reduce_time_s(nbytes, 2.0, per_node, ctx.tiers)
    return np.where(bool(ctx.model.tied_embeddings) & (p.pp > 1), t, 0.0)


def _buffer_bytes(ctx: StepContext) -> Array:
    """Communication buffers: EP dispatch/combine send+receive, PP send+receive (double-buffered)."""
    m = ctx.model
    ep = np.where(
        ctx.ep > 1, 2.0 * ctx.moe_tokens * m.num_experts_per_token * m.hidden_size * 2.0, 0.0
    )
    pp_bytes = ctx.norm_tokens * m.hidden_size * 2.0
    return ep + np.where(ctx.p.pp > 1, 4.0 * pp_bytes, 0.0)
