"""Is a parallel plan possible at all? Divisibility and degree rules, vectorized over plans.

A plan that breaks a rule cannot run (InfeasiblePlan with a one-line reason); a plan that merely
does not fit in memory is a valid prediction with `fits_in_memory = False` (perf/train/memory.py).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.specs import ModelSpec, TrainWorkload
from scalelab.perf.train.plan_arrays import (
    SCHED_DUALPIPE,
    SCHED_INTERLEAVED,
    SCHED_NONE,
    PlanArrays,
)

# Reason codes, in the order they are checked; 0 = feasible.
REASONS = (
    "ok",
    "degrees",
    "ep-experts",
    "ep-group",
    "tp-heads",
    "pp-layers",
    "cp-seq",
    "batch",
    "schedule",
)


def _messages(i: int, p: PlanArrays, m: ModelSpec, w: TrainWorkload, num_devices: int) -> list[str]:
    dp, tp, pp, ep, cp, mb, v = (
        int(getattr(p, f)[i]) for f in ("dp", "tp", "pp", "ep", "cp", "microbatch", "virtual")
    )
    return [
        "",
        f"degrees do not match the device count: dp {dp} x tp {tp} x pp {pp} x cp {cp} = "
        f"{dp * tp * pp * cp}, cluster has {num_devices}",
        f"ep {ep} does not divide the {m.num_routed_experts} routed experts"
        + ("" if m.is_moe else f" ({m.name} is not an MoE model)"),
        f"ep {ep} does not divide the {dp * tp * cp} ranks of a pipeline stage (dp x tp x cp)",
        f"tp {tp} does not divide the {m.num_attention_heads} attention heads / {m.kv_heads} KV heads",
        f"pp {pp} x virtual stages {v} exceeds the {m.num_layers} layers",
        f"cp {cp} does not divide seq_len {w.seq_len} into two equal chunks per rank",
        f"global batch {w.global_batch_size} is not a multiple of dp {dp} x micro-batch {mb}",
        _schedule_message(i, p, w),
    ]


def _schedule_message(i: int, p: PlanArrays, w: TrainWorkload) -> str:
    pp, sched = int(p.pp[i]), int(p.schedule[i])
    m = w.global_batch_size // max(1, int(p.dp[i]) * int(p.microbatch[i]))
    if sched == SCHED_NONE:
        return f"schedule 'none' needs pp = 1 (pp is {pp})"
    if sched == SCHED_DUALPIPE:
        return (
            f"dualpipe needs an even pp and at least pp micro-batches (pp {pp}, {m} micro-batches)"
        )
    v = int(p.virtual[i])
    return (
        f"interleaved 1F1B needs the {m} micro-batches to be a multiple of pp {pp} and the layers "
        f"to split into pp {pp} x {v} equal chunks"
    )


def check_codes(
    model: ModelSpec, workload: TrainWorkload, num_devices: int, p: PlanArrays
) -> NDArray[np.int64]:
    """The first violated rule per plan as an index into REASONS (0 = feasible)."""
    m = model
    n_micro = workload.global_batch_size // np.maximum(p.dp * p.microbatch, 1)
    experts = max(m.num_routed_experts, 1)
    kv = m.kv_heads
    rules = [
        p.dp * p.tp * p.pp * p.cp != num_devices,
        (p.ep > 1) & (~np.bool_(m.is_moe) | (experts % p.ep != 0)),
        (p.dp * p.tp * p.cp) % p.ep != 0,
        (m.num_attention_heads % p.tp != 0) | ((kv % p.tp != 0) & (p.tp % kv != 0)),
        p.pp * p.virtual > m.num_layers,
        (p.cp > 1) & (workload.seq_len % (2 * p.cp) != 0),
        workload.global_batch_size % (p.dp * p.microbatch) != 0,
        ((p.schedule == SCHED_NONE) & (p.pp > 1))
        | (
            (p.schedule == SCHED_DUALPIPE)
            & (p.pp > 1)
            & ((p.pp % 2 != 0) | (n_micro < 2 * p.pp) | (n_micro % 2 != 0))
        )
        | (
            (p.schedule == SCHED_INTERLEAVED)
            & (p.virtual > 1)
            & (
                (n_micro % p.pp != 0)
                | ((m.num_layers % p.pp == 0) & (m.num_layers % (p.pp * p.virtual) != 0))
            )
        ),
    ]
    codes = np.zeros(p.size, dtype=np.int64)
    for code, bad in reversed(list(enumerate(rules, start=1))):
        codes = np.where(bad, code, codes)
    return codes


def check_plan(
    model: ModelSpec, workload: TrainWorkload, num_devices: int, p: PlanArrays, i: int = 0
) -> None:
    """Raise InfeasiblePlan with a one-line reason if plan i breaks a rule."""
    code = int(check_codes(model, workload, num_devices, p.take(np.array([i])))[0])
    if code:
        raise InfeasiblePlan(_messages(i, p, model, workload, num_devices)[code])
