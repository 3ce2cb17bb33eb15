"""Memory per device: weights, gradients, optimizer states (mixed-precision AdamW, ZeRO 0-3),
activations of the micro-batches in flight, communication buffers and a runtime reserve.

Bytes per parameter after Rajbhandari et al. SC'20 (ZeRO) Sec 3.1: 2 (bf16 weights) + gradients +
12 (fp32 master weights, Adam m and v). Gradients are fp32 (4 B) at ZeRO 0-1, the Megatron-LM main
grads that bf16 training accumulates and reduces in (Korthikanti et al. 2022 Fig. 1 profiles
18 B per parameter), and bf16 (2 B) at ZeRO 2-3 (DeepSpeed, FSDP). Plans training in fp8 follow
DeepSeek-V3's recipe: Adam moments in bf16 (8 B of optimizer state; TR Sec 3.3.3). Stage 1 shards
the optimizer state, stage 2 also the gradients, stage 3 also the weights, over the data-parallel
group of each parameter (dense parameters over dp x cp, routed experts over the
expert-data-parallel group dp x tp x cp / ep).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import ModelSpec
from scalelab.core.units import GIB
from scalelab.perf.model.params import attention_params, ffn_params, mtp_module_params
from scalelab.perf.train.plan_arrays import PlanArrays
from scalelab.perf.train.stages import Placement

Array = NDArray[np.float64]
WEIGHT_BYTES, OPTIMIZER_BYTES = 2.0, 12.0  # ZeRO paper Sec 3.1 (K = 12)
FP32_GRAD_BYTES, BF16_GRAD_BYTES = 4.0, 2.0
FP8_RECIPE_OPTIMIZER_BYTES = 8.0  # fp32 master + bf16 m and v (DeepSeek-V3 TR Sec 3.3.3)
# CUDA context, cuBLAS workspaces, NCCL channels and allocator slack. Assumption: 2 GiB
# (PyTorch/NCCL on H100 typically report 1-3 GiB outside tensors).
RUNTIME_RESERVE_BYTES = 2.0 * GIB


@dataclass(frozen=True)
class LayerParams:
    """Parameters of one transformer layer (worst type) on one device, and those of the ends."""

    dense: Array  # replicated over the data-parallel group (attention, dense FFN, shared experts, router)
    expert: (
        Array  # routed experts, sharded over ep and replicated over the expert-data-parallel group
    )
    embed: Array
    head: Array  # head plus MTP modules (dense part)
    head_expert: Array  # routed experts of the MTP modules


def layer_params(m: ModelSpec, p: PlanArrays) -> LayerParams:
    """Per-device parameter counts of an average layer (dense-FFN and MoE layers weighted by their
    number) after TP (attention, FFN, vocab) and EP (routed experts) sharding."""
    tp, ep = p.tp.astype(float), p.ep.astype(float)
    h, n_moe, n_dense = m.hidden_size, m.num_moe_layers, m.num_dense_ffn_layers
    expert_one = ffn_params(h, m.moe_ffn_hidden_size or 0, m.activation) if m.is_moe else 0
    dense_ffn = n_dense * ffn_params(h, m.dense_ffn or 0, m.activation) if n_dense else 0
    moe_dense = n_moe * (m.num_shared_experts * expert_one + m.num_routed_experts * h)
    dense = (attention_params(m) + 2 * h + (dense_ffn + moe_dense) / m.num_layers) / tp
    expert = n_moe * m.num_routed_experts * expert_one / m.num_layers / ep
    vocab = m.vocab_size * h / tp
    mtp_expert = m.mtp_depth * m.num_routed_experts * expert_one / ep
    mtp_dense = m.mtp_depth * (mtp_module_params(m) - m.num_routed_experts * expert_one) / tp
    return LayerParams(
        dense,
        np.asarray(expert, dtype=float) * np.ones_like(tp),
        vocab,
        vocab + mtp_dense,
        np.asarray(mtp_expert, dtype=float) * np.ones_like(tp),
    )


@dataclass(frozen=True)
class MemoryArrays:
    """Bytes on the fullest device (index `device`: 0 first, 1 middle, 2 last stage) per plan."""

    weights_bytes: Array
    gradients_bytes: Array
    optimizer_bytes: Array
    activations_bytes: Array
    buffers_bytes: Array
    reserve_bytes: Array
    total_bytes: Array
    device: NDArray[np.int64]
    layer_activations_bytes: Array  # the transformer layers' share of activations_bytes


def grad_bytes_per_param(zero: ArrayLike) -> Array:
    """4 (fp32 main grads, Megatron-LM) at ZeRO 0-1; 2 (bf16, DeepSpeed/FSDP) at ZeRO 2-3."""
    return np.where(np.asarray(zero) >= 2, BF16_GRAD_BYTES, FP32_GRAD_BYTES)


def state_bytes(
    params: Array, shard: Array, zero: Array, fp8: ArrayLike = False
) -> tuple[Array, Array, Array]:
    """(weights, gradients, optimizer) bytes of `params` sharded over `shard` ranks at ZeRO `zero`."""
    w = params * WEIGHT_BYTES / np.where(zero >= 3, shard, 1.0)
    g = params * grad_bytes_per_param(zero) / np.where(zero >= 2, shard, 1.0)
    opt = np.where(fp8, FP8_RECIPE_OPTIMIZER_BYTES, OPTIMIZER_BYTES)
    o = params * opt / np.where(zero >= 1, shard, 1.0)
    return w, g, o


def memory_per_device(
    m: ModelSpec,
    p: PlanArrays,
    lp: LayerParams,
    place: Placement,
    act_layer: Array,
    act_embed: Array,
    act_head: Array,
    in_flight: Array,
    buffers: Array,
    act_work: Array,
) -> MemoryArrays:
    """Memory of the first, middle and last device kinds; the fullest one is reported. `act_work`:
    activations live only while one layer is processed (full recompute re-creates one layer's
    activations of one micro-batch before its backward)."""
    zero = p.zero[:, None].astype(float)
    fp8 = p.fp8[:, None]
    dp_shard = (p.dp * p.cp).astype(float)[:, None]
    edp_shard = (p.dp * p.tp * p.cp / p.ep).astype(float)[:, None]
    layers, emb, head = place.held_layers, place.held_embed, place.held_head
    # tied embeddings: a device holding both ends keeps the shared matrix once
    shared = float(m.tied_embeddings) * emb * head * lp.embed[:, None]
    dense = layers * lp.dense[:, None] + emb * lp.embed[:, None] + head * lp.head[:, None] - shared
    expert = layers * lp.expert[:, None] + head * lp.head_expert[:, None]
    wd, gd, od = state_bytes(dense, dp_shard, zero, fp8)
    we, ge, oe = state_bytes(expert, edp_shard, zero, fp8)
    # ZeRO-3 gathers one layer's weights at a time plus the prefetched next one; FSDP without
    # resharding keeps every layer of the stage gathered from its forward on
    keep = (p.no_reshard_fwd | p.no_reshard_bwd)[:, None]
    unit = 2.0 * (lp.dense + lp.expert)[:, None]
    gathered = np.where(zero >= 3, np.where(keep, dense + expert, unit) * WEIGHT_BYTES, 0.0)
    weights, grads, opt = wd + we + gathered, gd + ge, od + oe
    act_layer, act_embed, act_head = (
        np.broadcast_to(x, (p.size,)) for x in (act_layer, act_embed, act_head)
    )
    layer_acts = _activations(p, place, act_layer, 0.0 * act_embed, 0.0 * act_head, in_flight)
    acts = _activations(p, place, act_layer, act_embed, act_head, in_flight)
    acts = acts + np.broadcast_to(act_work, (p.size,))[:, None] * (layers > 0)
    buf = np.broadcast_to(buffers[:, None], acts.shape)
    total = np.where(
        place.exists > 0, weights + grads + opt + acts + buf + RUNTIME_RESERVE_BYTES, -np.inf
    )
    dev = np.argmax(total, axis=1)

    def pick(x: Array) -> Array:
        return np.take_along_axis(np.broadcast_to(x, total.shape), dev[:, None], axis=1)[:, 0]

    return MemoryArrays(
        pick(weights),
        pick(grads),
        pick(opt),
        pick(acts),
        pick(buf),
        np.full(p.size, RUNTIME_RESERVE_BYTES),
        pick(total),
        dev.astype(np.int64),
        pick(layer_acts),
    )


def _activations(
    p: PlanArrays,
    place: Placement,
    act_layer: Array,
    act_embed: Array,
    act_head: Array,
    in_flight: Array,
) -> Array:
    """[N, 3] activation bytes of the first, middle and last device kinds at peak. 1F1B-type
    schedules hold `in_flight` micro-batches on the first and middle devices and one on the last
    (GPipe and interleaved: `in_flight` everywhere). DualPipe holds PP+1 stage-activations (TR Table 2):
    an end rank keeps PP of its first stage (with the embedding) and one of its last (with the head);
    a middle rank (p+1) chunks of its two stages."""
    layers, emb, head = place.held_layers, place.held_embed, place.held_head
    per_mb = layers * act_layer[:, None] + emb * act_embed[:, None] + head * act_head[:, None]
    last = np.where(np.isin(p.schedule, (2, 4)), 1.0, in_flight)
    plain = per_mb * np.stack([in_flight, in_flight, last], axis=1)
    pp = p.pp.astype(float)
    first = place.first_stage_layers
    end = pp * (first * act_layer + act_embed) + (layers[:, 0] - first) * act_layer + act_head
    mid = (pp + 1.0) * layers[:, 1] / 2.0 * act_layer
    dual = np.stack([end, mid, np.zeros_like(end)], axis=1)
    return np.where((p.schedule == 5)[:, None] & (pp > 1)[:, None], dual, plain)
