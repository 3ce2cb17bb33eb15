"""The work of one inference step summed from the operator graph: what every device-class model
needs (MACs, attention-core FLOPs, weight and KV bytes, activation hops, sequential stages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scalelab.core.specs import ModelSpec
from scalelab.hw.opgraph import build_graph


@dataclass(frozen=True)
class StepWork:
    """One step (decode: `tokens` sequences x 1 token; prefill: all prompt tokens)."""

    model_name: str
    phase: str
    tokens: int
    num_layers: int
    weight_dtype: str
    total_params: float  # all resident weights (every expert)
    weight_bytes: float  # total_params in weight_dtype
    weight_bytes_read: float  # weights touched this step (routed experts: expected distinct)
    kv_bytes_read: float
    matmul_flops: float  # 2 per multiply-accumulate against a weight
    core_flops: float  # attention QK^T and PV over the KV cache
    act_bytes_per_hop: float  # activations passed between consecutive layers
    sequential_stages: int  # dependent matrix stages on the critical path, all layers
    attention_params_per_layer: float

    @property
    def macs(self) -> float:
        return self.matmul_flops / 2


def _stages(m: ModelSpec) -> int:
    """Dependent matrix stages per step: MLA attention q/kv down-projection, up-projection, output
    (3; MHA/GQA: qkv, output = 2); MoE FFN router, gate/up, down (3; dense: 2); plus the head."""
    attn = 3 if m.uses_mla else 2
    return m.num_layers * attn + m.num_dense_ffn_layers * 2 + m.num_moe_layers * 3 + 1


def step_work(
    m: ModelSpec,
    phase: Literal["decode", "prefill"] = "decode",
    batch_size: int = 1,
    context_tokens: int = 4096,
    prompt_tokens: int = 1024,
    weight_dtype: str = "bf16",
) -> StepWork:
    """Sum the ops of `build_graph` into the totals the class models use."""
    g = build_graph(m, phase, batch_size, context_tokens, prompt_tokens, weight_dtype)
    core = sum(o.core_flops for o in g.ops)
    kv = sum(o.kv_bytes for o in g.ops)
    attn = next(o for o in g.ops if o.kind == "attention")
    return StepWork(
        m.name,
        phase,
        g.tokens,
        m.num_layers,
        weight_dtype,
        sum(o.num_params for o in g.ops),
        g.total_weight_bytes,
        g.total_read_bytes - kv,
        kv,
        g.total_flops - core,
        core,
        attn.out_bytes,
        _stages(m),
        attn.num_params,
    )
