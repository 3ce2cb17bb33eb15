"""The serving deployments `plan-serve` tries: TP inside a node, EP over the MoE layers (with attention
DP), PP for dense models that do not fit, dual micro-batch overlap, and a grid of batch sizes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scalelab.core.specs import ClusterSpec, ModelSpec, ParallelPlan

PIPELINE_DEGREES = (1, 2, 4, 8)
PROMPTS_PER_GROUP = (1.0, 2.0, 4.0, 8.0)  # prefill batch options per attention-DP group


def _powers_of_two(limit: int) -> list[int]:
    out, v = [], 1
    while v <= limit:
        out.append(v)
        v *= 2
    return out


def tensor_degrees(m: ModelSpec, cluster: ClusterSpec) -> list[int]:
    """TP stays inside a node (NVLink) and divides the attention heads."""
    limit = min(cluster.devices_per_node, cluster.num_devices, m.num_attention_heads)
    return [t for t in _powers_of_two(limit) if m.num_attention_heads % t == 0]


def expert_degrees(m: ModelSpec, cluster: ClusterSpec, tp: int) -> list[int]:
    """EP 1 (experts TP-sharded) or multiples of tp up to the cluster (powers of two and the whole cluster)."""
    if not m.is_moe:
        return [1]
    n = cluster.num_devices
    eps = {1} | {tp * p for p in _powers_of_two(n // tp) if tp * p > 1}
    if n % tp == 0:
        eps.add(n)
    return sorted(e for e in eps if e <= n and (e == 1 or e % tp == 0))


def candidate_plans(m: ModelSpec, cluster: ClusterSpec) -> list[ParallelPlan]:
    """Every plan to evaluate; degrees that cannot run are filtered later by make_layout."""
    plans = []
    for tp in tensor_degrees(m, cluster):
        for ep in expert_degrees(m, cluster, tp):
            stage = max(tp, ep)
            pps = (
                [1]
                if ep > 1
                else [
                    p
                    for p in PIPELINE_DEGREES
                    if p <= m.num_layers and stage * p <= cluster.num_devices
                ]
            )
            for pp in pps:
                for dual in (False, True) if stage > 1 else (False,):
                    plans.append(ParallelPlan(tp=tp, ep=ep, pp=pp, dual_microbatch_overlap=dual))
                    if ep >= m.num_routed_experts + m.num_shared_experts > 0:
                        plans.append(
                            ParallelPlan(
                                tp=tp,
                                ep=ep,
                                pp=pp,
                                dual_microbatch_overlap=dual,
                                one_expert_per_device=True,
                            )
                        )
    return plans


def batch_grid(min_sequences: float, max_sequences: int) -> NDArray[np.float64]:
    """Sequences per replica to try: min * 2^i up to the KV-cache limit, and the limit itself."""
    if max_sequences < min_sequences:
        return np.zeros(0)
    grid = [min_sequences * 2.0**i for i in range(40) if min_sequences * 2.0**i <= max_sequences]
    if grid[-1] < max_sequences:
        grid.append(float(max_sequences))
    return np.asarray(grid, dtype=float)


def plan_label(p: ParallelPlan) -> str:
    """Short human label, e.g. `tp4 ep32 dmo`."""
    parts = [f"tp{p.tp}"]
    if p.ep > 1:
        parts.append(f"ep{p.ep}")
    if p.pp > 1:
        parts.append(f"pp{p.pp}")
    if p.dual_microbatch_overlap:
        parts.append("dmo")
    if p.one_expert_per_device:
        parts.append("1exp/dev")
    return " ".join(parts)
