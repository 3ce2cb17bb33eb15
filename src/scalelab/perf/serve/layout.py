"""Serving deployment layout: devices per model replica, attention DP inside the EP group, where the
experts, shared experts and dense FFN slices live, and the weight bytes each device holds.

The vocabulary is vLLM's (core/serve_parallel.py). One *replica* (one copy of the weights) is `pp`
pipeline stages of `S` devices. MoE with ep > 1: S = ep = dp x tp; attention runs TP `tp` x DP
`dp` inside a stage (DeepSeek-V3 TR Sec 3.4: attention TP4+SP with DP80, MoE EP320) and MoE layers
spread their experts over the S devices. MoE without ep: S = dp x tp and the experts are
TP-sharded over all S devices ("the expert layers will by default form a (DP x TP) sized tensor
parallel group", vLLM data-parallel deployment docs). Dense: S = tp, and the dp ranks are dp
independent replicas. `replicas` counts units of dp x tp x pp devices (default: as many as fit).
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
    stage_devices: int  # S: dp x tp (MoE), tp (dense)
    attn_dp: int  # attention data-parallel groups per stage, S / tp
    instance_devices: int  # S * pp: one copy of the weights
    replicas: int  # copies of the weights on the cluster
    expert_slots: int  # experts (routed + shared copies) held per device per MoE layer
    shared_dispatched: bool  # shared experts reached by dispatch like routed ones
    dense_slices: int  # expert-width slices of a dense FFN dispatched over the EP group (0 = local)
    dual_overlap: bool
    cuda_graphs: bool
    num_layers: int
    num_moe_layers: int
    moe_tp: int = 1  # TP degree of the experts when ep = 1 (S; tp when dp = 1)
    overlap_auto: bool = False  # the plan left dual_microbatch_overlap unset: predict picks
    cluster_devices: int = 0  # the cluster's devices, for idle-device accounting

    @property
    def devices_used(self) -> int:
        return self.instance_devices * self.replicas

    @property
    def idle_devices(self) -> int:
        return max(0, self.cluster_devices - self.devices_used)

    @property
    def ep_layers(self) -> int:
        """Layers that pay an EP dispatch + combine: MoE layers, and dense ones when sliced."""
        if self.ep <= 1:
            return 0
        return self.num_moe_layers + (
            self.num_layers - self.num_moe_layers if self.dense_slices else 0
        )


def describe_layout(lay: Layout) -> str:
    """One line, e.g. `replica = 144 devices (attention TP1 x DP144, experts EP144); 2 replicas`."""
    parts = [f"attention TP{lay.tp} x DP{lay.attn_dp}"]
    if lay.ep > 1:
        parts.append(f"experts EP{lay.ep}")
    elif lay.moe_tp > 1 and lay.num_moe_layers:
        parts.append(f"experts TP{lay.moe_tp}")
    if lay.pp > 1:
        parts.append(f"PP{lay.pp}")
    if lay.dual_overlap:
        parts.append("two micro-batches overlapped")
    text = (
        f"replica = {lay.instance_devices} device(s) ({', '.join(parts)}); "
        f"{lay.replicas} replica(s) on {lay.devices_used} devices"
    )
    if lay.idle_devices:
        text += f"; {lay.idle_devices} device(s) idle"
    return text


def layout_label(lay: Layout) -> str:
    """Compact, e.g. `tp1 dp144 ep144 tbo x2` (x = replicas)."""
    parts = [f"tp{lay.tp}", f"dp{lay.attn_dp}"]
    parts += [f"ep{lay.ep}"] if lay.ep > 1 else []
    parts += [f"pp{lay.pp}"] if lay.pp > 1 else []
    parts += ["tbo"] if lay.dual_overlap else []
    return " ".join(parts) + f" x{lay.replicas}"


def _check(m: ModelSpec, cluster: ClusterSpec, p: ParallelPlan) -> None:
    if p.cp != 1:
        raise InfeasiblePlan("context parallelism (cp > 1) is not modeled for serving")
    if p.ep > 1 and not m.is_moe:
        raise InfeasiblePlan(
            f"ep {p.ep} needs an MoE model; {m.name} is dense: drop ep (dense models use tp, dp "
            f"and pp)"
        )
    if p.ep > 1 and p.ep % p.tp:
        raise InfeasiblePlan(
            f"ep {p.ep} is not a multiple of tp {p.tp} (attention TP groups tile the EP group); "
            f"write ep = dp x tp"
        )
    if p.ep > 1 and p.dp is not None and p.dp * p.tp != p.ep:
        raise InfeasiblePlan(
            f"ep {p.ep} must equal dp x tp = {p.dp * p.tp}; write ep = {p.dp * p.tp}, or "
            f"dp = {p.ep // p.tp}"
        )
    if p.tp > m.num_attention_heads or m.num_attention_heads % p.tp:
        raise InfeasiblePlan(
            f"tp {p.tp} does not divide the {m.num_attention_heads} attention heads"
        )
    if p.pp > m.num_layers:
        raise InfeasiblePlan(f"pp {p.pp} exceeds the {m.num_layers} layers")


def _degrees(m: ModelSpec, p: ParallelPlan) -> tuple[int, int, int, int]:
    """(stage devices S, attention DP per replica, independent DP copies per unit, expert TP)."""
    dp = p.dp or 1
    if not m.is_moe:
        return p.tp, 1, dp, 1
    if p.ep > 1:
        return p.ep, p.ep // p.tp, 1, 1
    return dp * p.tp, dp, 1, dp * p.tp


def _replicas(cluster: ClusterSpec, p: ParallelPlan, unit: int, copies: int, what: str) -> int:
    n = cluster.num_devices
    if unit > n:
        raise InfeasiblePlan(
            f"one unit of {what} = {unit} devices exceeds the cluster's {n} devices; lower the "
            f"degrees or raise hardware.num_devices"
        )
    units = p.replicas if p.replicas is not None else n // unit
    if units * unit > n:
        raise InfeasiblePlan(
            f"replicas {units} x {unit} devices ({what}) need {units * unit} devices but the "
            f"cluster has {n}; write replicas = {n // unit} or raise hardware.num_devices"
        )
    return units * copies


def make_layout(m: ModelSpec, cluster: ClusterSpec, p: ParallelPlan) -> Layout:
    """Layout of plan `p` on `cluster`; InfeasiblePlan (one line) if it cannot run."""
    _check(m, cluster, p)
    stage, attn_dp, copies, moe_tp = _degrees(m, p)
    inst = stage * p.pp
    what = f"tp {p.tp} x dp {p.dp or 1} x pp {p.pp}"
    replicas = _replicas(cluster, p, inst * copies, copies, what)
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
        attn_dp,
        inst,
        replicas,
        slots,
        shared_disp,
        slices,
        p.dual_microbatch_overlap,
        OPT_EAGER not in p.optimizations,
        m.num_layers,
        m.num_moe_layers,
        moe_tp=max(moe_tp, p.tp) if m.is_moe and ep <= 1 else 1,
        overlap_auto=ep > 1 and "dual_microbatch_overlap" not in p.model_fields_set,
        cluster_devices=cluster.num_devices,
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
    # ep = 1: every expert on every device, TP-sharded over the moe_tp devices of the stage.
    moe_dev = lay.expert_slots * expert / max(lay.moe_tp, 1) + (
        m.num_routed_experts * h if m.is_moe else 0
    )
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
