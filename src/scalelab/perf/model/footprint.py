"""Bytes a model occupies: weights per dtype and KV cache per token (MLA latent vs GQA/MHA heads)."""

from __future__ import annotations

from scalelab.core.specs import ModelSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.model.params import count_params


def kv_cache_bytes_per_token(m: ModelSpec, dtype: str = "bf16") -> float:
    """KV cache of one token over all layers. MLA caches the compressed latent plus the decoupled
    RoPE key (DeepSeek-V2 Sec 2.1.2: (d_c + d_h^R) per layer); GQA/MHA cache K and V per KV head."""
    if m.uses_mla:
        per_layer = (m.kv_lora_rank or 0) + (m.qk_rope_head_dim or 0)
    else:
        per_layer = 2 * m.kv_heads * m.attn_head_dim
    return m.num_layers * per_layer * dtype_bytes(dtype)


def kv_cache_bytes_per_token_as_mha(m: ModelSpec, dtype: str = "bf16") -> float:
    """What the same model would cache with full multi-head attention (one KV head per query head)."""
    per_layer = 2 * m.num_attention_heads * (m.qk_head_dim if m.uses_mla else m.attn_head_dim)
    return m.num_layers * per_layer * dtype_bytes(dtype)


def weight_bytes(m: ModelSpec, dtype: str = "bf16", include_mtp: bool = False) -> float:
    """All weights stored in `dtype` (int4 packs two per byte)."""
    counts = count_params(m)
    n = counts.total + (counts.mtp if include_mtp else 0)
    return n * dtype_bytes(dtype)
