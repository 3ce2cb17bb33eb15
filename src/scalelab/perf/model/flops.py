"""FLOPs per token for training and inference: 2 FLOPs per multiply-add, backward = 2x forward."""

from __future__ import annotations

from scalelab.core.specs import ModelSpec
from scalelab.perf.model.params import count_params


def attention_core_fwd_flops_per_token(
    m: ModelSpec, context_tokens: float, causal: bool = True
) -> float:
    """QK^T and PV of one token against `context_tokens` keys, all layers, forward only.
    2 * heads * ctx * (d_qk + d_v) per layer; causal masking halves the average context
    (Narayanan et al. SC'21 eq. 3 counts the full square; Zhao et al. ISCA'25 Table 2 halves it)."""
    per_layer = 2.0 * m.num_attention_heads * context_tokens * (m.qk_head_dim + m.v_dim)
    return m.num_layers * per_layer * (0.5 if causal else 1.0)


def matmul_fwd_flops_per_token(m: ModelSpec) -> float:
    """2 FLOPs per active matmul weight (projections, FFN/experts, router, LM head)."""
    return 2.0 * count_params(m).matmul_active_per_token


def forward_flops_per_token(m: ModelSpec, seq_len: int, causal: bool = True) -> float:
    """Forward FLOPs per token at a training sequence length (average context seq/2 if causal)."""
    return matmul_fwd_flops_per_token(m) + attention_core_fwd_flops_per_token(m, seq_len, causal)


def train_flops_per_token(
    m: ModelSpec, seq_len: int, causal: bool = True, recompute: str = "none"
) -> float:
    """Model FLOPs per trained token: forward + backward (2x forward), plus recomputation if asked.
    `full` recomputes the whole forward (Narayanan et al. SC'21 Sec 5.1: 4x forward in all);
    `selective` recomputes the attention core only (Korthikanti et al. 2022 Sec 5)."""
    fwd = forward_flops_per_token(m, seq_len, causal)
    extra = {
        "none": 0.0,
        "full": fwd,
        "selective": attention_core_fwd_flops_per_token(m, seq_len, causal),
    }[recompute]
    return 3.0 * fwd + extra


def inference_flops_per_token(m: ModelSpec, context_tokens: float) -> float:
    """Forward FLOPs to produce one token that attends to `context_tokens` cached tokens."""
    return matmul_fwd_flops_per_token(m) + attention_core_fwd_flops_per_token(
        m, context_tokens, causal=False
    )


def mtp_train_flops_per_token(m: ModelSpec, seq_len: int, causal: bool = True) -> float:
    """Extra training FLOPs of the MTP modules (one extra block + projection + shared head each)."""
    if m.mtp_depth == 0:
        return 0.0
    counts = count_params(m)
    per_layer_attn = attention_core_fwd_flops_per_token(m, seq_len, causal) / m.num_layers
    expert_active = (counts.active_routed_experts + counts.shared_experts) / max(
        m.num_moe_layers, 1
    )
    from scalelab.perf.model.params import attention_params

    block = 2.0 * (attention_params(m) + expert_active + 2 * m.hidden_size**2) + per_layer_attn
    head = 2.0 * m.vocab_size * m.hidden_size
    return 3.0 * m.mtp_depth * (block + head)
