"""Exact parameter counts of a decoder-only transformer: dense/MoE FFN, MHA/GQA/MLA attention, MTP."""

from __future__ import annotations

from dataclasses import dataclass

from scalelab.core.specs import ModelSpec


def attention_params(m: ModelSpec) -> int:
    """Weights of one attention block (projections, MLA's low-rank norms, biases)."""
    h, heads = m.hidden_size, m.num_attention_heads
    if m.uses_mla:  # DeepSeek-V2 paper Sec 2.1.2, eqs. 9-19
        qk, rope, nope = m.qk_head_dim, m.qk_rope_head_dim or 0, m.qk_nope_head_dim or 0
        kv_rank, v = m.kv_lora_rank or 0, m.v_dim
        if m.q_lora_rank:
            q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * heads * qk
        else:
            q = h * heads * qk
        kv = h * (kv_rank + rope) + kv_rank + kv_rank * heads * (nope + v)
        return q + kv + heads * v * h
    d = m.attn_head_dim
    qkv = h * d * (heads + 2 * m.kv_heads)
    bias = d * (heads + 2 * m.kv_heads) if m.qkv_bias else 0
    return qkv + bias + heads * d * h


def ffn_params(hidden: int, ffn: int, activation: str) -> int:
    """One FFN: gated (SwiGLU/GeGLU) has three matrices, plain GELU/ReLU two."""
    return (3 if activation in ("swiglu", "geglu") else 2) * hidden * ffn


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts by component; `total`/`active_per_token` exclude the MTP modules."""

    embedding: int
    head: int
    attention: int
    dense_ffn: int
    routed_experts: int
    shared_experts: int
    router: int
    norms: int
    active_routed_experts: int
    mtp: int
    head_matmul: int  # weights of the LM-head matmul, also when tied to the embedding

    @property
    def total(self) -> int:
        return (
            self.embedding
            + self.head
            + self.attention
            + self.dense_ffn
            + self.routed_experts
            + self.shared_experts
            + self.router
            + self.norms
        )

    @property
    def active_per_token(self) -> int:
        """Parameters one token touches: everything but the routed experts it is not sent to."""
        return self.total - self.routed_experts + self.active_routed_experts

    @property
    def matmul_active_per_token(self) -> int:
        """Active weights used in matrix multiplies: everything but the embedding lookup and norms,
        with the LM head counted once even when it shares the embedding's weights."""
        return self.active_per_token - self.embedding - self.head - self.norms + self.head_matmul


def count_params(m: ModelSpec) -> ParamCounts:
    """Count every weight of `m` (main model; MTP reported separately)."""
    h = m.hidden_size
    embedding = m.vocab_size * h
    head = 0 if m.tied_embeddings else m.vocab_size * h
    dense = m.num_dense_ffn_layers * ffn_params(h, m.dense_ffn or 0, m.activation)
    expert = ffn_params(h, m.moe_ffn_hidden_size or 0, m.activation) if m.is_moe else 0
    n_moe = m.num_moe_layers
    return ParamCounts(
        embedding=embedding,
        head=head,
        attention=m.num_layers * attention_params(m),
        dense_ffn=dense,
        routed_experts=n_moe * m.num_routed_experts * expert,
        shared_experts=n_moe * m.num_shared_experts * expert,
        router=n_moe * m.num_routed_experts * h,
        norms=(2 * m.num_layers + 1) * h,
        active_routed_experts=n_moe * m.num_experts_per_token * expert,
        mtp=m.mtp_depth * mtp_module_params(m),
        head_matmul=m.vocab_size * h,
    )


def mtp_module_params(m: ModelSpec) -> int:
    """One DeepSeek-V3 MTP module: projection 2h->h, two RMSNorms and one (MoE) block; embedding and
    head are shared with the main model (DeepSeek-V3 TR Sec 2.2)."""
    h = m.hidden_size
    if m.is_moe:
        ffn = (m.num_routed_experts + m.num_shared_experts) * ffn_params(
            h, m.moe_ffn_hidden_size or 0, m.activation
        )
        ffn += m.num_routed_experts * h
    else:
        ffn = ffn_params(h, m.dense_ffn or 0, m.activation)
    return 2 * h * h + 2 * h + attention_params(m) + ffn + 2 * h
