"""An operator graph of one inference step built from a ModelSpec: per layer an attention op and
a dense FFN or (shared experts, routed experts) pair, with FLOPs, resident weight bytes, bytes read
per step and activation bytes sent on. Norms and MTP modules are left out (small / optional)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scalelab.core.errors import ConfigError
from scalelab.core.specs import ModelSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.flops import attention_core_fwd_flops_per_token
from scalelab.perf.footprint import kv_cache_bytes_per_token
from scalelab.perf.params import attention_params, ffn_params

Phase = Literal["decode", "prefill"]
OP_KINDS = ("embed", "attention", "dense_ffn", "shared_experts", "routed_experts", "head")


@dataclass(frozen=True)
class Op:
    """One operator. `read_bytes` is what one execution reads from memory (weights touched plus
    KV cache); `weight_bytes` is what must stay resident on the device that runs it."""

    name: str
    kind: str
    layer: int
    flops: float
    weight_bytes: float
    read_bytes: float
    out_bytes: float
    deps: tuple[str, ...]
    num_params: float = 0.0


@dataclass(frozen=True)
class OpGraph:
    """Ops in a topological order, for `tokens` tokens (decode: one per sequence)."""

    ops: tuple[Op, ...]
    phase: str
    tokens: int
    weight_dtype: str

    @property
    def total_flops(self) -> float:
        return sum(o.flops for o in self.ops)

    @property
    def total_weight_bytes(self) -> float:
        return sum(o.weight_bytes for o in self.ops)

    @property
    def total_read_bytes(self) -> float:
        return sum(o.read_bytes for o in self.ops)

    def successors(self) -> dict[str, list[str]]:
        succ: dict[str, list[str]] = {o.name: [] for o in self.ops}
        for o in self.ops:
            for d in o.deps:
                succ[d].append(o.name)
        return succ


def experts_touched(num_experts: int, experts_per_token: int, tokens: int) -> float:
    """Expected distinct experts hit by `tokens` tokens routing uniformly to k of E experts:
    E * (1 - (1 - k/E)^tokens) (uniform-routing assumption; real routers are skewed)."""
    return num_experts * (1.0 - (1.0 - experts_per_token / num_experts) ** tokens)


@dataclass(frozen=True)
class _Ctx:
    m: ModelSpec
    tokens: int
    wb: float  # weight bytes per parameter
    act_bytes: float  # activation bytes sent between ops
    kv_read_bytes_per_layer: float
    attn_core_flops_per_layer: float


def _ffn_ops(c: _Ctx, layer: int, dep: str) -> list[Op]:
    m, h, t = c.m, c.m.hidden_size, c.tokens
    if layer < m.num_dense_ffn_layers or not m.is_moe:
        p = ffn_params(h, m.dense_ffn or 0, m.activation)
        return [Op(f"L{layer}.ffn", "dense_ffn", layer, 2.0 * t * p, p * c.wb, p * c.wb, c.act_bytes, (dep,), p)]
    expert = ffn_params(h, m.moe_ffn_hidden_size or 0, m.activation)
    shared = m.num_shared_experts * expert + m.num_routed_experts * h  # shared experts + router
    routed = m.num_routed_experts * expert
    touched = experts_touched(m.num_routed_experts, m.num_experts_per_token, t)
    return [
        Op(f"L{layer}.shared", "shared_experts", layer, 2.0 * t * shared, shared * c.wb, shared * c.wb,
           c.act_bytes, (dep,), shared),
        Op(f"L{layer}.routed", "routed_experts", layer, 2.0 * t * m.num_experts_per_token * expert,
           routed * c.wb, touched * expert * c.wb, c.act_bytes, (dep,), routed),
    ]


def build_graph(m: ModelSpec, phase: Phase = "decode", batch_size: int = 1, context_tokens: int = 4096,
                prompt_tokens: int = 1024, weight_dtype: str = "bf16", act_dtype: str = "bf16",
                kv_dtype: str = "bf16") -> OpGraph:
    """The step's ops. Decode: `batch_size` sequences each add one token attending to
    `context_tokens` cached tokens. Prefill: `batch_size` prompts of `prompt_tokens` (causal)."""
    if batch_size < 1 or context_tokens < 1 or prompt_tokens < 1:
        raise ConfigError("batch size, context and prompt tokens must be >= 1")
    if phase not in ("decode", "prefill"):
        raise ConfigError(f"--phase must be decode or prefill, got '{phase}'")
    decode = phase == "decode"
    tokens = batch_size if decode else batch_size * prompt_tokens
    per_layer_kv = kv_cache_bytes_per_token(m, kv_dtype) / m.num_layers
    kv_read = batch_size * context_tokens * per_layer_kv if decode else 0.0
    core = (attention_core_fwd_flops_per_token(m, context_tokens, causal=False) if decode
            else attention_core_fwd_flops_per_token(m, prompt_tokens, causal=True)) / m.num_layers
    c = _Ctx(m, tokens, dtype_bytes(weight_dtype), tokens * m.hidden_size * dtype_bytes(act_dtype), kv_read, core)
    h, wb = m.hidden_size, c.wb
    emb = m.vocab_size * h
    ops = [Op("embed", "embed", -1, 0.0, emb * wb, tokens * h * wb, c.act_bytes, (), emb)]
    prev: tuple[str, ...] = ("embed",)
    for layer in range(m.num_layers):
        p = attention_params(m)
        attn = Op(f"L{layer}.attn", "attention", layer, tokens * (2.0 * p + core), p * wb, p * wb + kv_read,
                  c.act_bytes, prev, p)
        ffn = _ffn_ops(c, layer, attn.name)
        ops += [attn, *ffn]
        prev = tuple(o.name for o in ffn)
    head = emb if not m.tied_embeddings else 0
    ops.append(Op("head", "head", m.num_layers, 2.0 * tokens * m.vocab_size * h, head * wb,
                  m.vocab_size * h * wb, tokens * m.vocab_size * dtype_bytes(act_dtype), prev, head))
    return OpGraph(tuple(ops), phase, tokens, weight_dtype)
