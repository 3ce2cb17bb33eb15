"""An operator graph of one inference step built from a ModelSpec: per layer an attention op and
a dense FFN or (shared experts, routed experts) pair, with FLOPs, resident weight bytes, bytes read
per step and activation bytes sent on. Norms and MTP modules are left out (small / optional)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from scalelab.core.errors import ConfigError
from scalelab.core.specs import ModelSpec
from scalelab.core.units import dtype_bytes
from scalelab.perf.model.flops import attention_core_fwd_flops_per_token
from scalelab.perf.model.footprint import kv_cache_bytes_per_token
from scalelab.perf.model.params import attention_params, ffn_params

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
    core_flops: float = 0.0  # attention QK^T and PV over the KV cache (not a weight matmul)
    kv_bytes: float = 0.0  # KV cache read, part of read_bytes


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

    def op(
        self,
        name: str,
        kind: str,
        layer: int,
        flops: float,
        params: float,
        deps: tuple[str, ...],
        read_params: float | None = None,
        **extra: float,
    ) -> Op:
        """An op whose `params` stay resident and whose `read_params` (default: all) are read."""
        read = (params if read_params is None else read_params) * self.wb + extra.get(
            "kv_bytes", 0.0
        )
        return Op(
            name, kind, layer, flops, params * self.wb, read, self.act_bytes, deps, params, **extra
        )


def _ffn_ops(c: _Ctx, layer: int, dep: str) -> list[Op]:
    m, h, t = c.m, c.m.hidden_size, c.tokens
    if layer < m.num_dense_ffn_layers or not m.is_moe:
        p = ffn_params(h, m.dense_ffn or 0, m.activation)
        return [c.op(f"L{layer}.ffn", "dense_ffn", layer, 2.0 * t * p, p, (dep,))]
    expert = ffn_params(h, m.moe_ffn_hidden_size or 0, m.activation)
    shared = m.num_shared_experts * expert + m.num_routed_experts * h  # shared experts + router
    touched = experts_touched(m.num_routed_experts, m.num_experts_per_token, t)
    return [
        c.op(f"L{layer}.shared", "shared_experts", layer, 2.0 * t * shared, shared, (dep,)),
        c.op(
            f"L{layer}.routed",
            "routed_experts",
            layer,
            2.0 * t * m.num_experts_per_token * expert,
            m.num_routed_experts * expert,
            (dep,),
            read_params=touched * expert,
        ),
    ]


def _context(
    m: ModelSpec,
    phase: str,
    batch_size: int,
    context_tokens: int,
    prompt_tokens: int,
    weight_dtype: str,
    act_dtype: str,
    kv_dtype: str,
) -> _Ctx:
    decode = phase == "decode"
    tokens = batch_size if decode else batch_size * prompt_tokens
    per_layer_kv = kv_cache_bytes_per_token(m, kv_dtype) / m.num_layers
    core = (
        attention_core_fwd_flops_per_token(m, context_tokens, causal=False)
        if decode
        else attention_core_fwd_flops_per_token(m, prompt_tokens, causal=True)
    )
    return _Ctx(
        m,
        tokens,
        dtype_bytes(weight_dtype),
        tokens * m.hidden_size * dtype_bytes(act_dtype),
        batch_size * context_tokens * per_layer_kv if decode else 0.0,
        core / m.num_layers,
    )


def build_graph(
    m: ModelSpec,
    phase: Phase = "decode",
    batch_size: int = 1,
    context_tokens: int = 4096,
    prompt_tokens: int = 1024,
    weight_dtype: str = "bf16",
    act_dtype: str = "bf16",
    kv_dtype: str = "bf16",
) -> OpGraph:
    """The step's ops. Decode: `batch_size` sequences each add one token attending to
    `context_tokens` cached tokens. Prefill: `batch_size` prompts of `prompt_tokens` (causal)."""
    if batch_size < 1 or context_tokens < 1 or prompt_tokens < 1:
        raise ConfigError("batch size, context and prompt tokens must be >= 1")
    if phase not in ("decode", "prefill"):
        raise ConfigError(f"--phase must be decode or prefill, got '{phase}'")
    c = _context(
        m, phase, batch_size, context_tokens, prompt_tokens, weight_dtype, act_dtype, kv_dtype
    )
    t, emb, attn_p = c.tokens, m.vocab_size * m.hidden_size, attention_params(m)
    ops = [c.op("embed", "embed", -1, 0.0, emb, (), read_params=t * m.hidden_size)]
    prev: tuple[str, ...] = ("embed",)
    for layer in range(m.num_layers):
        core = t * c.attn_core_flops_per_layer
        attn = c.op(
            f"L{layer}.attn",
            "attention",
            layer,
            2.0 * t * attn_p + core,
            attn_p,
            prev,
            core_flops=core,
            kv_bytes=c.kv_read_bytes_per_layer,
        )
        ffn = _ffn_ops(c, layer, attn.name)
        ops += [attn, *ffn]
        prev = tuple(o.name for o in ffn)
    head = c.op(
        "head",
        "head",
        m.num_layers,
        2.0 * t * emb,
        0 if m.tied_embeddings else emb,
        prev,
        read_params=emb,
    )
    ops.append(replace(head, out_bytes=t * m.vocab_size * dtype_bytes(act_dtype)))
    return OpGraph(tuple(ops), phase, t, weight_dtype)
