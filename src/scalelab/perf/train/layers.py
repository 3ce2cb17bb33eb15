"""The operator list of each block after TP/SP/CP/EP sharding: GEMM shapes, flash attention,
memory-bound norms/activations/routing, and the collectives each block needs.

Shapes follow Megatron-LM (Shoeybi et al. 2019 Sec 3: column- then row-parallel GEMMs; Korthikanti
et al. 2022 Sec 4.2.2: sequence parallelism turns each all-reduce into all-gather + reduce-scatter),
MLA per DeepSeek-V2 Sec 2.1.2 (down-projections replicated across TP ranks) and DeepSeekMoE per
DeepSeek-V3 TR Sec 2.1.2 / 3.2.2 (expert parallelism, node-limited routing).
"""

from __future__ import annotations

import numpy as np

from scalelab.perf.comm import (
    all_gather_time_s,
    all_reduce_time_s,
    all_to_all_time_s,
    expected_remote_nodes,
)
from scalelab.perf.train.ops import Array, Block, StepContext

# Routing that caps the nodes a token may reach (DeepSeek-V3 TR Sec 2.1.2: at most M = 4 nodes);
# such systems send each token once per destination node over the scale-out network.
NODE_LIMITED_ROUTING = {"deepseek-v3": 4}
# Architectures whose reference code computes the loss with Megatron-LM's unfused vocab-parallel
# cross-entropy (Megatron-LM GPT as Narayanan et al. SC'21 and Korthikanti et al. 2022 ran it);
# others use a fused kernel.
UNFUSED_LOSS_ARCHES = ("gpt",)
# Expert load of the busiest device relative to the mean within one micro-batch. Assumption: 1.0
# (auxiliary-loss-free balancing keeps batch-level load near uniform, Wang et al. 2024 Sec 4).
MOE_IMBALANCE_RATIO = 1.0
DISPATCH_FP8_BYTES = (
    1.0 + 4.0 / 128.0
)  # fp8 activations + one fp32 scale per 128 (DeepSeek-V3 TR Sec 3.3)


def _tp_comm(ctx: StepContext) -> Array:
    """One TP all-reduce (or all-gather + reduce-scatter with SP: same volume) of the block output."""
    nbytes = ctx.tokens * ctx.model.hidden_size * 2.0
    return all_reduce_time_s(nbytes, ctx.tp, ctx.tp_rpn, ctx.tiers)


def _sp_regather(ctx: StepContext) -> Array:
    """With SP, the backward re-gathers the saved shard of a column-parallel input (Korthikanti et
    al. 2022 Sec 4.2.2): one all-gather of the block input."""
    nbytes = ctx.tokens * ctx.model.hidden_size * 2.0
    return np.where(ctx.p.sp, all_gather_time_s(nbytes, ctx.tp, ctx.tp_rpn, ctx.tiers), 0.0)


def _residual(blk: Block, ctx: StepContext) -> None:
    """Pre-norm (saved input, output recomputable) and the residual add; where the reference code
    applies dropout, the add is Megatron's fused bias-dropout-add and keeps a 1-byte mask. The add's
    gradient passes to both inputs unchanged (no kernel); dropout's backward reads the gradient and
    the mask and writes the input gradient (5 B per element)."""
    rows = ctx.norm_tokens * ctx.model.hidden_size
    blk.elementwise(rows * 4.0, "norm", saved_bytes=rows * 2.0, rerun="recipe")
    mask = 1.0 if ctx.dropout else 0.0
    blk.elementwise(
        rows * (6.0 + mask),
        "add",
        saved_bytes=rows * mask,
        part="dropout_masks",
        bwd_ratio=5.0 / 7.0 * mask,
    )


def attention_block(ctx: StepContext) -> Block:
    """Norm, projections (MHA/GQA or MLA), flash attention, output projection, TP and CP traffic."""
    m, blk, t, tp = ctx.model, Block(ctx), ctx.tokens, ctx.tp
    h, heads = m.hidden_size, m.num_attention_heads / tp
    _residual(blk, ctx)
    if m.uses_mla:
        q_rank, kv_rank = m.q_lora_rank or 0, m.kv_lora_rank or 0
        rope, nope, dv = m.qk_rope_head_dim or 0, m.qk_nope_head_dim or 0, m.v_dim
        q_in = ctx.norm_tokens
        if q_rank:
            blk.gemm(t, q_rank, h, saved_rows=q_in, drop_input="recipe")
            blk.elementwise(t * q_rank * 4.0, "norm", saved_bytes=t * q_rank * 2.0, rerun="recipe")
            blk.gemm(
                t,
                heads * m.qk_head_dim,
                q_rank,
                drop_input="recipe",
                rerun="recipe",
                col_parallel=True,
            )
        else:
            blk.gemm(
                t, heads * m.qk_head_dim, h, saved_rows=q_in, drop_input="recipe", rerun="recipe"
            )
        blk.gemm(t, kv_rank + rope, h, input_saved=False)  # shares the normed input with q_down
        blk.elementwise(t * kv_rank * 4.0, "norm", saved_bytes=t * kv_rank * 2.0, rerun="recipe")
        blk.gemm(
            t, heads * (nope + dv), kv_rank, drop_input="recipe", rerun="recipe", col_parallel=True
        )
        blk.attention(heads, m.qk_head_dim, dv, heads, drop_qkv="recipe")
        kv_bytes = ctx.mb * ctx.seq_len * heads * (m.qk_head_dim + dv) * 2.0
    else:
        d, kv = m.attn_head_dim, np.maximum(m.kv_heads / tp, 1.0)
        blk.gemm(
            t,
            (heads + 2.0 * kv) * d,
            h,
            saved_rows=ctx.norm_tokens,
            drop_input="recipe",
            col_parallel=True,
        )
        blk.attention(heads, d, d, kv, drop_qkv=None)
        kv_bytes = ctx.mb * ctx.seq_len * kv * 2.0 * d * 2.0
    # the o-projection's input is the attention output attention() saved
    blk.gemm(t, h, heads * m.v_dim, input_saved=False)
    cp_s = all_gather_time_s(
        kv_bytes, ctx.cp, ctx.cp_rpn, ctx.tiers
    )  # ring attention: KV passes every rank
    blk.add_comm(tp_s=_tp_comm(ctx), cp_s=cp_s, tp_redo_s=_sp_regather(ctx))
    return blk


def dense_ffn_block(ctx: StepContext, ffn: int, comm: bool = True, residual: bool = True) -> Block:
    """Norm, up (gate+up for GLU) projection, activation, down projection, TP traffic."""
    m, blk, t = ctx.model, Block(ctx), ctx.tokens
    f = ffn / ctx.tp
    gated = m.activation in ("swiglu", "geglu")
    if residual:
        _residual(blk, ctx)
    # with SP the column-parallel input is saved as this rank's shard and re-gathered in backward
    # (Korthikanti et al. 2022 Sec 4.2.2)
    blk.gemm(
        t,
        (2.0 if gated else 1.0) * f,
        m.hidden_size,
        saved_rows=ctx.norm_tokens,
        drop_input="recipe",
        col_parallel=comm,
    )
    _activation(blk, t * f, gated)
    blk.gemm(t, m.hidden_size, f, drop_input="recipe")  # its input is the activation output
    if comm:
        blk.add_comm(tp_s=_tp_comm(ctx), tp_redo_s=_sp_regather(ctx))
    return blk


def _activation(blk: Block, elems: Array, gated: bool) -> None:
    """GLU reads gate and up, writes one (3 x bf16; backward reads three, writes two); GELU reads
    one, writes one (backward reads two, writes one). Its input is saved, in fp8 when the plan
    trains in fp8 (DeepSeek-V3 TR Sec 3.3.3 caches SwiGLU inputs in fp8)."""
    saved = elems * (2.0 if gated else 1.0) * blk.ctx.lin_bytes
    blk.elementwise(
        elems * (6.0 if gated else 4.0),
        "act",
        saved_bytes=saved,
        part="activation_inputs",
        rerun="recipe",
        bwd_ratio=5.0 / 3.0 if gated else 1.5,
    )


def moe_block(ctx: StepContext) -> Block:
    """Router, dispatch all-to-all, routed experts as grouped GEMMs, shared experts, combine."""
    m, blk = ctx.model, Block(ctx)
    h, k, experts, f = (
        m.hidden_size,
        m.num_experts_per_token,
        m.num_routed_experts,
        m.moe_ffn_hidden_size or 0,
    )
    _residual(blk, ctx)
    rows = ctx.moe_tokens
    blk.gemm(rows, experts, h, rate=ctx.hi, drop_input="recipe")
    blk.elementwise(rows * experts * 8.0, "softmax")
    local = experts / ctx.ep
    per_expert = rows * k * ctx.ep / experts * MOE_IMBALANCE_RATIO
    routed = rows * k * h * 2.0 * MOE_IMBALANCE_RATIO
    blk.elementwise(routed * 2.0, "copy")  # permute into expert order
    gated = m.activation in ("swiglu", "geglu")
    blk.gemm(per_expert, (2.0 if gated else 1.0) * f, h, groups=local, batched=True)
    _activation(blk, per_expert * local * f, gated)
    blk.gemm(per_expert, h, f, groups=local, batched=True, drop_input="recipe")
    blk.elementwise(routed * 2.0, "add")  # unpermute + weighted sum
    if m.num_shared_experts:
        merge_compute(
            blk, dense_ffn_block(ctx, m.num_shared_experts * f, comm=False, residual=False)
        )
    dispatch, combine = ep_comm_times_s(ctx)
    blk.add_comm(tp_s=_tp_comm(ctx))
    blk.add_ep(dispatch, combine)
    return blk


def ep_comm_times_s(ctx: StepContext) -> tuple[Array, Array]:
    """(dispatch, combine) all-to-all seconds of one MoE layer's forward: dispatch in fp8 with scales
    when training in fp8 (else bf16), combine in bf16 (DeepSeek-V3 TR Sec 3.3.3); the backward moves
    the same volumes the other way."""
    m = ctx.model
    h, k = m.hidden_size, m.num_experts_per_token
    rows = ctx.moe_tokens * MOE_IMBALANCE_RATIO
    limit = NODE_LIMITED_ROUTING.get(m.arch) or NODE_LIMITED_ROUTING.get(m.catalog_id or "")
    out = []
    for elem_bytes in (np.where(ctx.fp8, DISPATCH_FP8_BYTES, 2.0), 2.0):
        sent = rows * k * h * elem_bytes
        remote = (
            None
            if limit is None
            else rows * h * elem_bytes * expected_remote_nodes(ctx.ep_nodes, k, limit)
        )
        out.append(
            np.asarray(
                all_to_all_time_s(sent, ctx.ep, ctx.ep_rpn, ctx.tiers, scale_out_bytes=remote),
                dtype=float,
            )
        )
    return out[0], out[1]


def merge_compute(dst: Block, src: Block) -> None:
    """Add src's compute, kernel launches and activations to dst (communication is added separately)."""
    for name in (
        "f",
        "b",
        "w",
        "sel_f",
        "sel_kernels",
        "kernels_f",
        "kernels_b",
        "attn_f",
        "attn_b",
        "col_dgrad",
        "col_wgrad",
    ):
        setattr(dst, name, getattr(dst, name) + getattr(src, name))
    for part, nbytes in src.saved.items():
        dst.saved[part] = dst.saved.get(part, np.zeros(())) + nbytes
    for part, nbytes in src.dropped.items():
        dst.dropped[part] = dst.dropped.get(part, np.zeros(())) + nbytes


def head_block(ctx: StepContext) -> Block:
    """Final norm, LM head (bf16, vocab-parallel over TP) and the fused softmax cross-entropy."""
    m, blk, t = ctx.model, Block(ctx), ctx.tokens
    rows = ctx.norm_tokens * m.hidden_size
    blk.elementwise(rows * 4.0, "norm", saved_bytes=rows * 2.0)
    vocab = m.vocab_size / ctx.tp
    blk.gemm(t, vocab, m.hidden_size, rate=ctx.hi, saved_rows=ctx.norm_tokens)
    if m.arch in UNFUSED_LOSS_ARCHES:
        _unfused_cross_entropy(blk, t * vocab)
    else:
        # fused vocab-parallel cross-entropy: forward reads bf16 logits and writes the fp32 softmax
        # it saves; backward reads it and writes bf16 logit gradients: 6 B per logit each way
        blk.elementwise(
            t * vocab * 6.0, "softmax", saved_bytes=t * vocab * 4.0, part="logits", bwd_ratio=1.0
        )
    blk.add_comm(tp_s=_tp_comm(ctx) * 0.5)
    return blk


def _unfused_cross_entropy(blk: Block, logits: Array) -> None:
    """Megatron-LM's vocab-parallel cross-entropy of 2021-22 (mpu/cross_entropy.py, commit
    35a3fa8b7c), one PyTorch kernel per step, per logit: the bf16 logits cast to fp32 (read 2, write
    4), their row max (read 4), subtracted in place (4 + 4), exponentiated in place (4 + 4), summed
    (read 4) and divided in place into the softmax it saves (4 + 4); backward scales the softmax by
    the loss gradient in place (4 + 4) and casts it back to bf16 (4 + 2)."""
    blk.elementwise(logits * 6.0, "add", saved_bytes=logits * 4.0, part="logits", bwd_ratio=0.0)
    blk.elementwise(logits * 4.0, "norm", bwd_ratio=0.0)  # max
    for _ in range(2):  # subtract, exp
        blk.elementwise(logits * 8.0, "add", bwd_ratio=0.0)
    blk.elementwise(logits * 4.0, "norm", bwd_ratio=0.0)  # sum
    blk.elementwise(logits * 8.0, "add", bwd_ratio=14.0 / 8.0)  # divide; backward: scale + cast


def embedding_block(ctx: StepContext) -> Block:
    """Vocab-parallel embedding lookup (memory-bound) and its TP reduction."""
    blk = Block(ctx)
    rows = ctx.tokens * ctx.model.hidden_size
    blk.elementwise(rows * 4.0, "copy")
    blk.add_comm(tp_s=_tp_comm(ctx) * 0.5)
    return blk


def mtp_rest_block(ctx: StepContext) -> Block:
    """One DeepSeek-V3 MTP module (TR Sec 2.2) apart from its transformer block (which costs as much
    as a main-model layer): two norms, the 2h -> h projection and the shared output head with its loss."""
    m, rest = ctx.model, Block(ctx)
    rows = ctx.norm_tokens * m.hidden_size
    rest.elementwise(rows * 8.0, "norm", saved_bytes=rows * 4.0, rerun="recipe")
    rest.gemm(ctx.tokens, m.hidden_size, 2.0 * m.hidden_size)
    head = head_block(ctx)
    merge_compute(rest, head)
    rest.add_comm(tp_s=head.tp_f)
    return rest
