"""The operator list of each block after TP/SP/CP/EP sharding: GEMM shapes, flash attention,
memory-bound norms/activations/routing, and the collectives each block needs.

Shapes follow Megatron-LM (Shoeybi et al. 2019 Sec 3: column- then row-parallel GEMMs; Korthikanti
et al. 2022 Sec 4.2.2: sequence parallelism turns each all-reduce into all-gather + reduce-scatter),
MLA per DeepSeek-V2 Sec 2.1.2 (down-projections replicated across TP ranks) and DeepSeekMoE per
DeepSeek-V3 TR Sec 2.1.2 / 3.2.2 (expert parallelism, node-limited routing).
"""

from __future__ import annotations

import numpy as np

from scalelab.perf.comm import all_gather_time_s, all_reduce_time_s, all_to_all_time_s, expected_remote_nodes
from scalelab.perf.ops import Array, Block, StepContext

# Routing that caps the nodes a token may reach (DeepSeek-V3 TR Sec 2.1.2: at most M = 4 nodes);
# such systems send each token once per destination node over the scale-out network.
NODE_LIMITED_ROUTING = {"deepseek-v3": 4}
# Expert load of the busiest device relative to the mean within one micro-batch. Assumption: 1.0
# (auxiliary-loss-free balancing keeps batch-level load near uniform, Wang et al. 2024 Sec 4).
MOE_IMBALANCE_RATIO = 1.0
DISPATCH_FP8_BYTES = 1.0 + 4.0 / 128.0  # fp8 activations + one fp32 scale per 128 (DeepSeek-V3 TR Sec 3.3)


def _tp_comm(ctx: StepContext) -> Array:
    """One TP all-reduce (or all-gather + reduce-scatter with SP: same volume) of the block output."""
    nbytes = ctx.tokens * ctx.model.hidden_size * 2.0
    return all_reduce_time_s(nbytes, ctx.tp, ctx.tp_rpn, ctx.tiers)


def _residual(blk: Block, ctx: StepContext) -> None:
    """Pre-norm (saved input, output recomputable) and the residual add."""
    rows = ctx.norm_tokens * ctx.model.hidden_size
    blk.elementwise(rows * 4.0, "norm", saved_bytes=rows * 2.0)
    blk.elementwise(rows * 6.0, "add", rerun_selective=False)


def attention_block(ctx: StepContext) -> Block:
    """Norm, projections (MHA/GQA or MLA), flash attention, output projection, TP and CP traffic."""
    m, blk, t, tp = ctx.model, Block(ctx), ctx.tokens, ctx.tp
    h, heads = m.hidden_size, m.num_attention_heads / tp
    _residual(blk, ctx)
    if m.uses_mla:
        q_rank, kv_rank = m.q_lora_rank or 0, m.kv_lora_rank or 0
        rope, nope, dv = m.qk_rope_head_dim or 0, m.qk_nope_head_dim or 0, m.v_dim
        if q_rank:
            blk.gemm(t, q_rank, h, droppable_input=True)
            blk.elementwise(t * q_rank * 4.0, "norm", saved_bytes=t * q_rank * 2.0)
            blk.gemm(t, heads * m.qk_head_dim, q_rank, droppable_input=True, rerun_selective=True)
        else:
            blk.gemm(t, heads * m.qk_head_dim, h, droppable_input=True)
        blk.gemm(t, kv_rank + rope, h)
        blk.elementwise(t * kv_rank * 4.0, "norm", saved_bytes=t * kv_rank * 2.0)
        blk.gemm(t, heads * (nope + dv), kv_rank, droppable_input=True, rerun_selective=True)
        blk.attention(heads, m.qk_head_dim, dv, heads, droppable_qkv=True)
        kv_bytes = ctx.mb * ctx.seq_len * heads * (m.qk_head_dim + dv) * 2.0
    else:
        d, kv = m.attn_head_dim, np.maximum(m.kv_heads / tp, 1.0)
        blk.gemm(t, (heads + 2.0 * kv) * d, h, droppable_input=True)
        blk.attention(heads, d, d, kv, droppable_qkv=False)
        kv_bytes = ctx.mb * ctx.seq_len * kv * 2.0 * d * 2.0
    blk.gemm(t, h, heads * m.v_dim)
    cp_s = all_gather_time_s(kv_bytes, ctx.cp, ctx.cp_rpn, ctx.tiers)  # ring attention: KV passes every rank
    blk.add_comm(tp_s=_tp_comm(ctx), cp_s=cp_s)
    return blk


def dense_ffn_block(ctx: StepContext, ffn: int, comm: bool = True, residual: bool = True) -> Block:
    """Norm, up (gate+up for GLU) projection, activation, down projection, TP traffic."""
    m, blk, t = ctx.model, Block(ctx), ctx.tokens
    f = ffn / ctx.tp
    gated = m.activation in ("swiglu", "geglu")
    if residual:
        _residual(blk, ctx)
    blk.gemm(t, (2.0 if gated else 1.0) * f, m.hidden_size, droppable_input=True)
    _activation(blk, t * f, gated)
    blk.gemm(t, m.hidden_size, f)
    if comm:
        blk.add_comm(tp_s=_tp_comm(ctx))
    return blk


def _activation(blk: Block, elems: Array, gated: bool) -> None:
    """GLU reads gate and up, writes one (3 x bf16); GELU reads one, writes one. Input saved."""
    blk.elementwise(elems * (6.0 if gated else 4.0), "act", saved_bytes=elems * (4.0 if gated else 2.0))


def moe_block(ctx: StepContext) -> Block:
    """Router, dispatch all-to-all, routed experts as grouped GEMMs, shared experts, combine."""
    m, blk = ctx.model, Block(ctx)
    h, k, experts, f = m.hidden_size, m.num_experts_per_token, m.num_routed_experts, m.moe_ffn_hidden_size or 0
    _residual(blk, ctx)
    rows = ctx.moe_tokens
    blk.gemm(rows, experts, h, rate=ctx.hi)
    blk.elementwise(rows * experts * 8.0, "softmax", rerun_selective=False)
    local = experts / ctx.ep
    per_expert = rows * k * ctx.ep / experts * MOE_IMBALANCE_RATIO
    routed = rows * k * h * 2.0 * MOE_IMBALANCE_RATIO
    blk.elementwise(routed * 2.0, "copy", rerun_selective=False)  # permute into expert order
    gated = m.activation in ("swiglu", "geglu")
    blk.gemm(per_expert, (2.0 if gated else 1.0) * f, h, groups=local)
    _activation(blk, per_expert * local * f, gated)
    blk.gemm(per_expert, h, f, groups=local)
    blk.elementwise(routed * 2.0, "add", rerun_selective=False)  # unpermute + weighted sum
    if m.num_shared_experts:
        merge_compute(blk, dense_ffn_block(ctx, m.num_shared_experts * f, comm=False, residual=False))
    blk.add_comm(tp_s=_tp_comm(ctx), ep_s=ep_comm_time_s(ctx))
    return blk


def ep_comm_time_s(ctx: StepContext) -> Array:
    """Dispatch (fp8 with scales when training in fp8, else bf16) + combine (bf16) of one MoE layer."""
    m = ctx.model
    h, k = m.hidden_size, m.num_experts_per_token
    rows = ctx.moe_tokens * MOE_IMBALANCE_RATIO
    disp_b = np.where(ctx.fp8, DISPATCH_FP8_BYTES, 2.0)
    limit = NODE_LIMITED_ROUTING.get(m.arch) or NODE_LIMITED_ROUTING.get(m.catalog_id or "")
    total = 0.0
    for elem_bytes in (disp_b, 2.0):
        sent = rows * k * h * elem_bytes
        out = None
        if limit is not None:
            out = rows * h * elem_bytes * expected_remote_nodes(ctx.ep_nodes, k, limit)
        total = total + all_to_all_time_s(sent, ctx.ep, ctx.ep_rpn, ctx.tiers, scale_out_bytes=out)
    return np.asarray(total, dtype=float)


def merge_compute(dst: Block, src: Block) -> None:
    """Add src's compute, kernel launches and activations to dst (communication is added separately)."""
    for name in ("f", "b", "w", "selective_f", "kernels_f", "kernels_b", "saved", "droppable", "attn_f", "attn_b"):
        setattr(dst, name, getattr(dst, name) + getattr(src, name))


def head_block(ctx: StepContext) -> Block:
    """Final norm, LM head (bf16, vocab-parallel over TP) and the fused softmax cross-entropy."""
    m, blk, t = ctx.model, Block(ctx), ctx.tokens
    rows = ctx.norm_tokens * m.hidden_size
    blk.elementwise(rows * 4.0, "norm", saved_bytes=rows * 2.0)
    vocab = m.vocab_size / ctx.tp
    blk.gemm(t, vocab, m.hidden_size, rate=ctx.hi)
    blk.elementwise(t * vocab * 12.0, "softmax", saved_bytes=t * vocab * 4.0, rerun_selective=False)
    blk.add_comm(tp_s=_tp_comm(ctx) * 0.5)
    return blk


def embedding_block(ctx: StepContext) -> Block:
    """Vocab-parallel embedding lookup (memory-bound) and its TP reduction."""
    blk = Block(ctx)
    rows = ctx.tokens * ctx.model.hidden_size
    blk.elementwise(rows * 4.0, "copy", rerun_selective=False)
    blk.add_comm(tp_s=_tp_comm(ctx) * 0.5)
    return blk


def mtp_block(ctx: StepContext) -> Block:
    """One DeepSeek-V3 MTP module: two norms, 2h -> h projection, one block, and the shared head."""
    m, blk = ctx.model, Block(ctx)
    rows = ctx.norm_tokens * m.hidden_size
    blk.elementwise(rows * 8.0, "norm", saved_bytes=rows * 4.0)
    blk.gemm(ctx.tokens, m.hidden_size, 2.0 * m.hidden_size)
    for part in (attention_block(ctx), moe_block(ctx) if m.is_moe else
                 dense_ffn_block(ctx, m.dense_ffn or 0), head_block(ctx)):
        merge_compute(blk, part)
        blk.add_comm(tp_s=part.tp_f, ep_s=part.ep_f, cp_s=part.cp_f)
    return blk
