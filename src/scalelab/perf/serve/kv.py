"""KV-cache memory per device and the largest concurrency that fits beside the weights.

MLA caches one latent (d_c + d_R) per token per layer, shared by all heads, so TP cannot split it:
each TP rank keeps the whole latent of its group's sequences (DeepSeek-V3 TR Sec 3.4 serves MLA with
attention DP for this reason). GQA/MHA caches K and V per KV head, split over TP down to one head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalelab.core.specs import AcceleratorSpec, ModelSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.serve.layout import Layout

# Fraction of HBM a serving engine lets weights + KV cache use; the rest holds the CUDA context,
# activations and allocator slack (vLLM's default gpu_memory_utilization = 0.9).
HBM_USABLE_FRAC = 0.9


def kv_elems_per_token_layer(m: ModelSpec) -> int:
    """Cached elements per token per layer: d_c + d_R for MLA (DeepSeek-V2 Sec 2.1.2), 2 * kv_heads * d
    for GQA/MHA."""
    if m.uses_mla:
        return (m.kv_lora_rank or 0) + (m.qk_rope_head_dim or 0)
    return 2 * m.kv_heads * m.attn_head_dim


def kv_shard_frac(m: ModelSpec, tp: int) -> float:
    """Share of a token's KV one TP rank stores: 1 for MLA (latent replicated), ceil(kv_heads/tp)/kv_heads
    for GQA (a KV head is replicated when tp > kv_heads)."""
    if m.uses_mla:
        return 1.0
    return math.ceil(m.kv_heads / tp) / m.kv_heads


@dataclass(frozen=True)
class KvCapacity:
    """KV memory of one device and the concurrency it allows (sequences of `context_tokens` each)."""

    kv_bytes_per_token: float  # whole model, all layers, unsharded
    kv_bytes_per_sequence_per_device: float  # including the paged-allocation waste
    weight_bytes_per_device: float
    free_bytes_per_device: float  # usable HBM minus weights (>= 0)
    sequences_per_attn_group: int  # per attention-DP group of the instance
    max_concurrency_per_instance: int

    @property
    def fits_weights(self) -> bool:
        return self.free_bytes_per_device > 0


def kv_capacity(
    m: ModelSpec,
    lay: Layout,
    acc: AcceleratorSpec,
    context_tokens: int,
    kv_dtype: str,
    weight_bytes: float,
    fragmentation_frac: float = 0.0,
) -> KvCapacity:
    """Largest concurrency per instance: every pipeline stage keeps the KV of all the instance's
    sequences for its own layers; each attention-DP group keeps only its own sequences.
    `fragmentation_frac` of allocated KV memory is lost to paging (vLLM reports < 4%, Kwon et al. SOSP'23)."""
    per_token = kv_elems_per_token_layer(m) * dtype_bytes(kv_dtype)
    per_seq = (
        context_tokens
        * per_token
        * m.num_layers
        / lay.pp
        * kv_shard_frac(m, lay.tp)
        / (1.0 - fragmentation_frac)
    )
    free = max(0.0, HBM_USABLE_FRAC * acc.hbm_bytes - weight_bytes)
    per_group = int(free // per_seq) if per_seq > 0 else 0
    return KvCapacity(
        per_token * m.num_layers, per_seq, weight_bytes, free, per_group, per_group * lay.attn_dp
    )
