"""The plan space for (model, cluster, workload): every factoring of the device count into
tp x cp x pp x dp, expert parallelism inside a stage, ZeRO stage, micro-batch, schedule and virtual
stages, recompute mode and (where the workload and device allow) fp8 — as PlanArrays.

Choices left out on purpose (documented in docs/planner.md): GPipe (1F1B has the same bubble with
less memory), ZeRO-2/3 together with pipeline parallelism (Megatron-LM does not combine them), tp
beyond one node, and context parallelism below 1024 tokens per rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelab.core.specs import ClusterSpec, ModelSpec, TrainWorkload
from scalelab.perf.kernels.timing import compute_dtype
from scalelab.perf.train.plan_arrays import (
    RC_FULL,
    RC_NONE,
    RC_SELECTIVE,
    SCHED_1F1B,
    SCHED_DUALPIPE,
    SCHED_INTERLEAVED,
    SCHED_NONE,
    SCHED_ZB,
    PlanArrays,
)

MICRO_BATCHES = (1, 2, 4, 8)
VIRTUAL_STAGES = (2, 4)
CP_DEGREES = (1, 2, 4, 8)
MIN_TOKENS_PER_CP_RANK = 1024
DUALPIPE_COMM_SMS = 20  # DeepSeek-V3 TR Sec 3.2.2: 20 of 132 SMs drive the all-to-all


@dataclass(frozen=True)
class SpaceOptions:
    """Which dimensions to explore (a smaller space for hardware sweeps)."""

    micro_batches: tuple[int, ...] = MICRO_BATCHES
    recomputes: tuple[int, ...] = (RC_NONE, RC_SELECTIVE, RC_FULL)
    schedules: tuple[int, ...] = (SCHED_1F1B, SCHED_INTERLEAVED, SCHED_ZB, SCHED_DUALPIPE)
    zero_stages: tuple[int, ...] = (0, 1, 2, 3)
    context_parallel: bool = True


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _degrees(
    model: ModelSpec, cluster: ClusterSpec, workload: TrainWorkload, opts: SpaceOptions
) -> list[tuple[int, int, int, int, int]]:
    """(tp, cp, pp, dp, ep) tuples whose product tp cp pp dp is the device count."""
    n, out = cluster.num_devices, []
    tps = [
        t
        for t in _divisors(min(cluster.devices_per_node, model.num_attention_heads))
        if model.num_attention_heads % t == 0 and t & (t - 1) == 0
    ]
    cps = [c for c in CP_DEGREES if opts.context_parallel or c == 1]
    cps = [c for c in cps if c == 1 or workload.seq_len // c >= MIN_TOKENS_PER_CP_RANK]
    for tp in tps:
        for cp in cps:
            if n % (tp * cp):
                continue
            for pp in _divisors(n // (tp * cp)):
                if pp > model.num_layers:
                    break
                dp = n // (tp * cp * pp)
                eps = [1]
                if model.is_moe:
                    eps = [
                        e for e in _divisors(model.num_routed_experts) if (dp * tp * cp) % e == 0
                    ]
                out += [(tp, cp, pp, dp, ep) for ep in eps]
    return out


def _expand(base: dict[str, np.ndarray], name: str, values: np.ndarray) -> dict[str, np.ndarray]:
    """Cartesian product of the rows in `base` with `values` for column `name`."""
    k = len(values)
    out = {key: np.repeat(col, k) for key, col in base.items()}
    out[name] = np.tile(values, len(next(iter(base.values()))))
    return out


def enumerate_plans(
    model: ModelSpec,
    cluster: ClusterSpec,
    workload: TrainWorkload,
    opts: SpaceOptions | None = None,
) -> PlanArrays:
    """All candidate plans (not yet checked for divisibility or memory)."""
    opts = opts or SpaceOptions()
    deg = np.array(_degrees(model, cluster, workload, opts), dtype=np.int64).reshape(-1, 5)
    cols = {name: deg[:, i] for i, name in enumerate(("tp", "cp", "pp", "dp", "ep"))}
    cols = _expand(cols, "microbatch", np.array(opts.micro_batches, dtype=np.int64))
    cols = _expand(cols, "zero", np.array(opts.zero_stages, dtype=np.int64))
    # schedule x virtual stages as one column of (schedule, virtual) pairs
    pairs = [(s, 1) for s in opts.schedules if s != SCHED_INTERLEAVED]
    pairs += [(SCHED_INTERLEAVED, v) for v in VIRTUAL_STAGES if SCHED_INTERLEAVED in opts.schedules]
    cols = _expand(cols, "sched_pair", np.arange(len(pairs) + 1))
    pair_arr = np.array([(SCHED_NONE, 1), *pairs], dtype=np.int64)
    cols["schedule"], cols["virtual"] = (
        pair_arr[cols["sched_pair"], 0],
        pair_arr[cols["sched_pair"], 1],
    )
    keep = (cols["pp"] == 1) == (cols["schedule"] == SCHED_NONE)
    keep &= (cols["pp"] == 1) | (cols["zero"] <= 1)
    cols = {k: v[keep] for k, v in cols.items() if k != "sched_pair"}
    cols = _expand(cols, "recompute", np.array(opts.recomputes, dtype=np.int64))
    fp8_ok = workload.dtype == "fp8" and compute_dtype("fp8", cluster.accelerator) == "fp8"
    cols = _expand(cols, "fp8", np.array([False, True] if fp8_ok else [False]))
    size = len(cols["tp"])
    no = np.zeros(size, dtype=bool)
    return PlanArrays(
        dp=cols["dp"],
        tp=cols["tp"],
        pp=cols["pp"],
        ep=cols["ep"],
        cp=cols["cp"],
        microbatch=cols["microbatch"],
        zero=cols["zero"],
        schedule=cols["schedule"],
        virtual=cols["virtual"],
        recompute=cols["recompute"],
        fp8=cols["fp8"].astype(bool),
        sp=cols["tp"] > 1,
        comm_sms=np.where(cols["schedule"] == SCHED_DUALPIPE, DUALPIPE_COMM_SMS, 0).astype(
            np.int64
        ),
        dual_overlap=no,
        tp_overlap=no,
        cuda_graphs=no,
        moe_loop=no,
        dp_overlap=no.copy(),
        flash_attn=no,
        fp32=no,
        no_reshard_fwd=no,
        no_reshard_bwd=no,
        fp16=no,
        no_async_tp=no,
        no_grad_acc_fusion=no,
    )
