"""Operator times of one transformer layer on one serving device (GEMMs, attention on a KV cache,
MoE experts, small memory-bound kernels), built on the fitted kernel model of perf/kernels/timing.py.

All functions broadcast over numpy arrays of sequence counts and context lengths, so the serving
planner evaluates many batch sizes at once. Weights may be bf16/fp16, fp8/int8 (W8A8: the GEMM
runs in that dtype) or int4/fp4 (weight-only: bf16 math on 4-bit weights, e.g. AWQ/Marlin).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import AcceleratorSpec, ModelSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.kernels.calibration import KernelParams
from scalelab.perf.kernels.measured import kernel_params_for
from scalelab.perf.kernels.timing import (
    attention_time_s,
    compute_dtype,
    gemm_rate,
    gemm_time_at,
    memory_bound_time_s,
)
from scalelab.perf.serve.kv import kv_elems_per_token_layer, kv_shard_frac
from scalelab.perf.serve.layout import Layout

Array = NDArray[np.float64]


def gemm_dtype(weight_dtype: str, acc: AcceleratorSpec) -> str:
    """The dtype the multiply runs in: int4 is weight-only (bf16 math); fp4 runs natively only where
    the device has fp4 tensor cores; others as perf/kernels.compute_dtype."""
    if weight_dtype == "int4" or (weight_dtype == "fp4" and not acc.peak_fp4_flops_per_s):
        return "bf16"
    return compute_dtype(weight_dtype, acc)


def grouped_linear_time_s(
    groups: ArrayLike,
    m_per_group: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    weight_dtype: str,
    acc: AcceleratorSpec,
    params: KernelParams | None = None,
    warm_l2_bytes: ArrayLike = 0.0,
    batched: bool = True,
) -> Array:
    """`groups` equal (m x k) @ (k x n) GEMMs in one launch, weights in `weight_dtype`: perf/kernels
    .gemm_time_at at the multiply's dtype, with the weight bytes at their stored size (weight-only
    formats). With bf16 weights this is exactly perf/kernels.grouped_gemm_time_s.
    `warm_l2_bytes`: see perf/kernels.gemm_stream_s."""
    params = params or kernel_params_for(acc)
    rate = gemm_rate(gemm_dtype(weight_dtype, acc), acc, 1.0, params)
    return gemm_time_at(
        m_per_group,
        n,
        k,
        rate,
        acc,
        params,
        groups=groups,
        batched=batched,
        warm_l2_bytes=warm_l2_bytes,
        weight_elem_bytes=dtype_bytes(weight_dtype),
    )


def linear_time_s(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    weight_dtype: str,
    acc: AcceleratorSpec,
    params: KernelParams | None = None,
    warm_l2_bytes: ArrayLike = 0.0,
) -> Array:
    """(m x k) activations times a (k x n) weight in `weight_dtype` (perf/kernels.gemm_time_s for bf16)."""
    params = params or kernel_params_for(acc)
    return grouped_linear_time_s(
        1.0, m, n, k, weight_dtype, acc, params, warm_l2_bytes, batched=False
    )


def attention_gemm_shapes(m: ModelSpec, tp: int) -> list[tuple[int, float, bool]]:
    """Per-device (k, n, on_context_rows) of the attention projections. MLA: q_a and kv_a are not split by
    heads; kv_b runs on every cached token in prefill (latent up-projection) and is absorbed into the
    query/output in decode (DeepSeek-V2 Sec 2.1.2). GQA/MHA: fused QKV and the output projection."""
    h, heads = m.hidden_size, m.num_attention_heads / tp
    if m.uses_mla:
        rank, rope, nope, v = (
            m.kv_lora_rank or 0,
            m.qk_rope_head_dim or 0,
            m.qk_nope_head_dim or 0,
            m.v_dim,
        )
        q = (
            [(h, m.q_lora_rank, False), (m.q_lora_rank, heads * m.qk_head_dim, False)]
            if m.q_lora_rank
            else [(h, heads * m.qk_head_dim, False)]
        )
        return [
            *q,
            (h, rank + rope, False),
            (rank, heads * (nope + v), True),
            (int(heads * v), h, False),
        ]
    d = m.attn_head_dim
    kv_dev = math.ceil(m.kv_heads / tp)
    return [(h, (heads + 2 * kv_dev) * d, False), (int(heads * d), h, False)]


def attention_gemm_s(
    m: ModelSpec,
    tp: int,
    wdtype: str,
    acc: AcceleratorSpec,
    rows: ArrayLike,
    context_rows: ArrayLike,
) -> Array:
    """Projection GEMMs of one layer: `rows` new tokens; `context_rows` for MLA's kv_b in prefill."""
    total = np.zeros(np.broadcast(np.asarray(rows), np.asarray(context_rows)).shape)
    for k, n, on_ctx in attention_gemm_shapes(m, tp):
        total = total + linear_time_s(context_rows if on_ctx else rows, n, k, wdtype, acc)
    return total


def decode_attention_s(
    m: ModelSpec,
    tp: int,
    kv_dtype: str,
    acc: AcceleratorSpec,
    n_seq: ArrayLike,
    q_len: ArrayLike,
    ctx: ArrayLike,
    params: KernelParams | None = None,
) -> Array:
    """Attention of `q_len` new tokens per sequence on a cached context: reads the KV cache once
    (FlashDecoding/FlashMLA; FlashMLA reaches 3000 of 3350 GB/s on H800, close to the measured copy
    fraction) and runs at the large-GEMM bf16 fraction when compute-bound (FlashMLA: 660 TFLOPS on H800,
    0.67 of peak, near our fitted 0.74). MLA decode is absorbed: MQA over d_c + d_R keys, d_c values."""
    params = params or kernel_params_for(acc)
    s, q, c = (np.asarray(x, dtype=float) for x in (n_seq, q_len, ctx))
    heads = m.num_attention_heads / tp
    if m.uses_mla:
        d_qk, d_v = (m.kv_lora_rank or 0) + (m.qk_rope_head_dim or 0), float(m.kv_lora_rank or 0)
    else:
        d_qk = d_v = m.attn_head_dim
    flops = 2.0 * s * heads * q * c * (d_qk + d_v)
    kv_bytes = s * c * kv_elems_per_token_layer(m) * kv_shard_frac(m, tp) * dtype_bytes(kv_dtype)
    compute = flops / (params.gemm_frac["bf16"] * acc.peak_bf16_flops_per_s)
    memory = kv_bytes / (params.copy_frac * acc.hbm_bandwidth_bytes_per_s)
    return np.where(flops > 0, params.kernel_floor_s + np.maximum(compute, memory), 0.0)


def prefill_attention_s(
    m: ModelSpec,
    tp: int,
    acc: AcceleratorSpec,
    n_seq: ArrayLike,
    new_tokens: ArrayLike,
    ctx: ArrayLike,
) -> Array:
    """Flash attention of the new tokens (causal) against `ctx` keys; with a cached prefix the average
    query sees ctx - new/2 keys (non-causal call on that length). MLA prefill runs un-absorbed MHA."""
    q, c = np.asarray(new_tokens, dtype=float), np.asarray(ctx, dtype=float)
    heads = m.num_attention_heads / tp
    causal = attention_time_s(n_seq, heads, q, q, m.qk_head_dim, m.v_dim, True, acc)
    with_prefix = attention_time_s(n_seq, heads, q, c - q / 2, m.qk_head_dim, m.v_dim, False, acc)
    return np.where(c > q, with_prefix, causal)


def ffn_dense_s(m: ModelSpec, tp: int, wdtype: str, acc: AcceleratorSpec, rows: ArrayLike) -> Array:
    """A dense FFN TP-sharded over `tp`: up (+gate) then down projection, plus the activation."""
    f = (m.dense_ffn or 0) / tp
    up = 2 * f if m.activation in ("swiglu", "geglu") else f
    h = m.hidden_size
    act = memory_bound_time_s(np.asarray(rows, dtype=float) * (up + f) * 2.0, acc, "act")
    return linear_time_s(rows, up, h, wdtype, acc) + linear_time_s(rows, h, f, wdtype, acc) + act


def experts_s(
    m: ModelSpec,
    lay: Layout,
    wdtype: str,
    acc: AcceleratorSpec,
    rows_per_device: ArrayLike,
    groups: ArrayLike,
    ffn: int,
    shard: int = 1,
) -> Array:
    """Grouped GEMMs of `groups` experts of width `ffn / shard` over `rows_per_device` received rows,
    assumed balanced over the groups (EPLB redundant experts, DeepSeek-V3 TR Sec 3.4)."""
    r = np.asarray(rows_per_device, dtype=float)
    f = ffn / shard
    up = 2 * f if m.activation in ("swiglu", "geglu") else f
    g = np.asarray(groups, dtype=float)
    per = r / np.maximum(g, 1.0)
    h = m.hidden_size
    act = memory_bound_time_s(r * (up + f) * 2.0, acc, "act")
    return (
        grouped_linear_time_s(g, per, up, h, wdtype, acc)
        + grouped_linear_time_s(g, per, h, f, wdtype, acc)
        + act
    )


def router_s(m: ModelSpec, acc: AcceleratorSpec, tokens: ArrayLike) -> Array:
    """Gate GEMM (bf16) and the top-k/softmax kernel over the routed experts."""
    t = np.asarray(tokens, dtype=float)
    gemm = linear_time_s(t, m.num_routed_experts, m.hidden_size, "bf16", acc)
    return gemm + memory_bound_time_s(t * m.num_routed_experts * 4.0 * 2, acc, "softmax")


def small_kernels_s(m: ModelSpec, acc: AcceleratorSpec, rows: ArrayLike) -> Array:
    """Per layer: two RMSNorms (read + write) and two residual adds (two reads + one write) in bf16."""
    nbytes = np.asarray(rows, dtype=float) * m.hidden_size * 2.0
    return 2 * memory_bound_time_s(2 * nbytes, acc, "norm") + 2 * memory_bound_time_s(
        3 * nbytes, acc, "add"
    )


def kernels_per_layer(m: ModelSpec) -> int:
    """Kernel launches of one layer (for the host-launch bound of eager execution)."""
    attn = len(attention_gemm_shapes(m, 1)) + 1 + (2 if m.uses_mla else 0) + 1
    ffn = 7 if m.is_moe else 3
    return attn + ffn + 4
