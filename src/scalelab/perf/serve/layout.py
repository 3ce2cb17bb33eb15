"""Serving deployment layout: devices per model replica, attention DP inside the EP group, where the
experts, shared experts and dense FFN slices live, and the weight bytes each device holds.

One *instance* (model replica) is `pp` pipeline stages of `S = max(tp, ep)` devices. Attention runs
TP `tp` x DP `S / tp` inside a stage (DeepSeek-V3 TR Sec 3.4: attention TP4+SP with DP80, MoE EP320);
MoE layers spread their experts over the `S` devices of the stage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.specs import ClusterSpec, ModelSpec, ParallelPlan
from scalelab.core.units import dtype_bytes
from scalelab.perf.model.params import attention_params, ffn_params, mtp_module_params

# ParallelPlan.optimizations flags read by the inference model.
OPT_SHARED_EXPERT_LOCAL = "shared-expert-local"  # shared experts computed where the token is (DP)
OPT_DENSE_FFN_LOCAL = "dense-ffn-local"  # dense-layer FFNs TP-sharded in the attention group
OPT_EAGER = "eager"  # decode without CUDA graphs (host launch cost per kernel)


@dataclass(frozen=True)
class Layout:
    """Degrees and placement of one serving instance; counts are per device unless named otherwise."""

    tp: int
    pp: int
    ep: int
    stage_devices: int  # S = max(tp, ep)
    attn_dp: int  # attention data-parallel groups per stage, S / tp
    instance_devices: int  # S * pp
    replicas: int  # instances on the cluster
    expert_slots: int  # experts (routed + shared copies) held per device per MoE layer
    shared_dispatched: bool  # shared experts reached by dispatch like routed ones
    dense_slices: int  # expert-width slices of a dense FFN dispatched over the EP group (0 = local)
    dual_overlap: bool
    cuda_graphs: bool
    num_layers: int
    num_moe_layers: int

    @property
    def devices_used(self) -> int:
        return self.instance_devices * self.replicas

    @property
    def ep_layers(self) -> int:
        """Layers that pay an EP dispatch + combine: MoE layers, and dense ones when sliced."""
        if self.ep <= 1:
            return 0
        return self.num_moe_layers + (
            self.num_layers - self.num_moe_layers if self.dense_slices else 0
        )


def _check(m: ModelSpec, cluster: ClusterSpec, p: ParallelPlan) -> None:
    if p.cp != 1:
        raise InfeasiblePlan("context parallelism (cp > 1) is not modeled for serving")
    if p.ep > 1 and not m.is_moe:
        raise InfeasiblePlan(f"ep {p.ep} needs an MoE model; {m.name} is dense")
    if p.ep > 1 and p.ep % p.tp:
        raise InfeasiblePlan(
            f"ep {p.ep} is not a multiple of tp {p.tp} (attention TP groups tile the EP group)"
        )
    if p.tp > m.num_attention_heads or m.num_attention_heads % p.tp:
        raise InfeasiblePlan(
            f"tp {p.tp} does not divide the {m.num_attention_heads} attention heads"
        )
    if p.pp > m.num_layers:
        raise InfeasiblePlan(f"pp {p.pp} exceeds the {m.num_layers} layers")


def make_layout(m: ModelSpec, cluster: ClusterSpec, p: ParallelPlan) -> Layout:
    """Layout of plan `p` on `cluster`; InfeasiblePlan (one line) if it cannot run."""
    _check(m, cluster, p)
    stage = max(p.tp, p.ep) if m.is_moe else p.tp
    inst = stage * p.pp
    replicas = p.dp if p.dp is not None else cluster.num_devices // inst
    if replicas < 1 or replicas * inst > cluster.num_devices:
        raise InfeasiblePlan(
            f"{max(replicas, 1)} replica(s) of {inst} devices (tp {p.tp} x ep-stage {stage // p.tp} "
            f"x pp {p.pp}) exceed the cluster's {cluster.num_devices} devices"
        )
    ep = p.ep if m.is_moe else 1
    shared_disp = (
        ep > 1 and m.num_shared_experts > 0 and OPT_SHARED_EXPERT_LOCAL not in p.optimizations
    )
    slices = 0
    if ep > 1 and m.num_dense_ffn_layers and OPT_DENSE_FFN_LOCAL not in p.optimizations:
        slices = math.ceil((m.dense_ffn or 0) / (m.moe_ffn_hidden_size or 1))
    slots = _expert_slots(m, ep, stage, shared_disp, p.one_expert_per_device)
    return Layout(
        p.tp,
        p.pp,
        ep,
        stage,
        stage // p.tp,
        inst,
        replicas,
        slots,
        shared_disp,
        slices,
        p.dual_microbatch_overlap,
        OPT_EAGER not in p.optimizations,
        m.num_layers,
        m.num_moe_layers,
    )


def copies_per_token(m: ModelSpec, lay: Layout) -> int:
    """Expert destinations of one token in an MoE layer: top-k routed, plus the shared experts when they
    are dispatched ("we treat the shared expert as a routed one... each token will select 9 experts",
    DeepSeek-V3 TR Sec 3.4.2)."""
    return m.num_experts_per_token + (m.num_shared_experts if lay.shared_dispatched else 0)


def shared_copies(m: ModelSpec, stage: int, dispatched: bool) -> int:
    """Devices holding a copy of each shared expert. Dispatched: every token visits it, so it needs
    S * 1/(k+1) copies for the load to match a routed expert's (DeepSeek-V3 TR Sec 3.4.2: 64 GPUs host
    redundant and shared experts); local: one copy on every device."""
    if not m.num_shared_experts:
        return 0
    if not dispatched:
        return stage
    return math.ceil(stage / (m.num_experts_per_token + m.num_shared_experts))


def _expert_slots(
    m: ModelSpec, ep: int, stage: int, shared_disp: bool, one_per_device: bool
) -> int:
    if not m.is_moe:
        return 0
    if ep <= 1:
        return m.num_routed_experts + m.num_shared_experts
    total = m.num_routed_experts + m.num_shared_experts * shared_copies(m, stage, shared_disp)
    if one_per_device:
        if total > stage:
            raise InfeasiblePlan(
                f"one expert per device needs ep >= {total} (routed experts + shared copies); "
                f"ep is {ep}"
            )
        return 1
    if not shared_disp:
        return math.ceil(m.num_routed_experts / stage) + m.num_shared_experts
    return math.ceil(total / stage)


def weight_bytes_per_device(m: ModelSpec, lay: Layout, dtype: str, with_mtp: bool) -> float:
    """Weights one device of the heaviest stage holds (bytes). Attention and dense FFN are TP-sharded
    (MLA's down-projections replicated), experts per `expert_slots`, embedding and LM head
    vocab-parallel over TP (both on the device when pp = 1, the larger one otherwise)."""
    h = m.hidden_size
    expert = ffn_params(h, m.moe_ffn_hidden_size or 0, m.activation) if m.is_moe else 0
    per_layer_attn = attention_params(m) / lay.tp
    if m.uses_mla:  # q_a and kv_a projections are not split by heads
        down = h * ((m.q_lora_rank or 0) + (m.kv_lora_rank or 0) + (m.qk_rope_head_dim or 0))
        per_layer_attn = down + (attention_params(m) - down) / lay.tp
    dense = ffn_params(h, m.dense_ffn or 0, m.activation) if m.num_dense_ffn_layers else 0
    dense_dev = (
        dense / lay.tp
        if not lay.dense_slices
        else math.ceil(lay.dense_slices / lay.stage_devices) * dense / lay.dense_slices
    )
    moe_dev = lay.expert_slots * expert + (m.num_routed_experts * h if m.is_moe else 0)
    stage_frac = 1.0 / lay.pp
    layers = (
        m.num_layers * per_layer_attn
        + m.num_dense_ffn_layers * dense_dev
        + m.num_moe_layers * moe_dev
    ) * stage_frac
    vocab = m.vocab_size * h / lay.tp
    edge = 2 * vocab if (lay.pp == 1 and not m.tied_embeddings) else vocab
    mtp = mtp_module_params(m) * m.mtp_depth / lay.stage_devices if with_mtp else 0.0
    return (layers + edge + mtp) * dtype_bytes(dtype)
