"""Find the best training plan: enumerate, reject impossible plans and those whose model states
alone overflow memory, evaluate the rest with the vectorized step model (the same code as
`predict train`), rank by time, cost or energy per token, and return the top K and the Pareto front.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from scalelab.core.specs import ClusterSpec, ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.cost import price_usd_per_device_hour
from scalelab.perf.train.memory import RUNTIME_RESERVE_BYTES, layer_params, state_bytes
from scalelab.perf.train.plan_arrays import SCHED_DUALPIPE, PlanArrays, from_plans
from scalelab.perf.train.plan_check import REASONS, check_codes
from scalelab.perf.train.predict import TrainArrays, TrainPrediction, evaluate_train, prediction_at
from scalelab.plan.space import SpaceOptions, enumerate_plans

Objective = Literal["time", "cost", "energy"]
OBJECTIVES: tuple[str, ...] = ("time", "cost", "energy")
NO_FIT_PROBES = 256  # plans re-evaluated in full to measure the smallest memory shortfall
AFTER_EVALUATION = "memory-after-evaluation"  # key of `rejected` for evaluated plans that overflow


@dataclass(frozen=True)
class RankedPlan:
    """One evaluated plan: its cluster size, the full prediction and its per-token objectives."""

    rank: int
    num_devices: int
    prediction: TrainPrediction
    time_s_per_token: float
    cost_usd_per_token: float
    energy_j_per_token: float
    num_equivalent: int = 0  # other plans with the same time, memory and cost per token


@dataclass
class Evaluated:
    """Fitting plans of one cluster size with their objectives (arrays over plans)."""

    cluster: ClusterSpec
    plans: PlanArrays
    index: NDArray[np.int64]
    values: dict[str, NDArray[np.float64]]
    res: TrainArrays | None


@dataclass
class TrainSearch:
    """The answer of the planner. The counts add up: num_candidates = num_evaluated + the plans
    rejected before evaluation (num_rejected_by_reason: impossible degrees, or model states alone
    above HBM); of the evaluated, num_fitting fit in memory and the others are counted in
    num_rejected_after_evaluation["memory"]. Plans that tie on time, memory and cost share one
    rank (`RankedPlan.num_equivalent` counts the others)."""

    objective: str
    plans: list[RankedPlan]
    pareto: list[RankedPlan]
    num_candidates: int
    num_evaluated: int
    num_rejected_by_reason: dict[str, int]
    search_s: float
    no_fit_message: str | None = None
    explanation: list[str] = field(default_factory=list)
    scatter: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    num_fitting: int = 0
    num_rejected_after_evaluation: dict[str, int] = field(default_factory=dict)

    def rank_of(self, value: float) -> int:
        """1 + the number of fitting plans strictly better than `value` on the objective."""
        return 1 + int(np.sum(self.scatter[self.objective] < value * (1 - 1e-12)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (`plan --json`, docs/json.md)."""
        from scalelab.plan.search_dict import search_dict

        return search_dict(self)


def states_lower_bound_bytes(model: ModelSpec, plans: PlanArrays) -> NDArray[np.float64]:
    """Weights, gradients and optimizer states of the lightest stage (floor(L / pp) layers, twice
    under DualPipe), plus the runtime reserve: a plan above HBM cannot fit whatever else it does."""
    lp = layer_params(model, plans)
    layers = np.floor(model.num_layers / plans.pp) * np.where(
        plans.schedule == SCHED_DUALPIPE, 2.0, 1.0
    )
    zero, fp8 = plans.zero.astype(float), plans.fp8
    dense = state_bytes(layers * lp.dense, (plans.dp * plans.cp).astype(float), zero, fp8)
    expert = state_bytes(
        layers * lp.expert, (plans.dp * plans.tp * plans.cp / plans.ep).astype(float), zero, fp8
    )
    return np.asarray(sum(dense) + sum(expert) + RUNTIME_RESERVE_BYTES, dtype=float)


def _objectives(
    cluster: ClusterSpec,
    workload: TrainWorkload,
    step_s: NDArray[np.float64],
    joules_per_token: NDArray[np.float64],
) -> dict[str, NDArray[np.float64]]:
    """Per trained token: seconds, dollars, and facility joules (perf/energy.py's model)."""
    per_token = step_s / workload.tokens_per_step
    n = cluster.num_devices
    return {
        "time": per_token,
        "cost": per_token * n * price_usd_per_device_hour(cluster, workload) / 3600.0,
        "energy": joules_per_token,
    }


def _search_one(
    model: ModelSpec,
    cluster: ClusterSpec,
    workload: TrainWorkload,
    opts: SpaceOptions,
    rejected: dict[str, int],
) -> tuple[Evaluated, int, int, tuple[float, ParallelPlan] | None]:
    """Evaluate one cluster size; returns fitting plans, candidates, evaluated, smallest shortfall.
    `rejected` counts the plans dropped before evaluation; "memory-after-evaluation" counts
    evaluated plans that do not fit (kept apart so candidates = evaluated + rejected)."""
    plans = enumerate_plans(model, cluster, workload, opts)
    codes = check_codes(model, workload, cluster.num_devices, plans)
    for code, count in zip(*np.unique(codes, return_counts=True), strict=True):
        if code:
            rejected[REASONS[int(code)]] = rejected.get(REASONS[int(code)], 0) + int(count)
    ok = plans.take(codes == 0)
    hbm = cluster.accelerator.hbm_bytes
    lower = states_lower_bound_bytes(model, ok)
    small = lower <= hbm
    rejected["memory"] = rejected.get("memory", 0) + int(np.sum(~small))
    run = ok.take(small)
    res = evaluate_train(model, cluster, workload, run) if run.size else None
    fits = res.fits_in_memory if res is not None else np.zeros(0, dtype=bool)
    rejected[AFTER_EVALUATION] = rejected.get(AFTER_EVALUATION, 0) + int(np.sum(~fits))
    shortfall = None
    if not fits.any():
        shortfall = _smallest_shortfall(model, cluster, workload, ok, lower)
    idx = np.flatnonzero(fits)
    values = (
        _objectives(cluster, workload, res.step.step_time_s[idx], res.run.joules_per_token[idx])
        if res is not None
        else {k: np.zeros(0) for k in OBJECTIVES}
    )
    return Evaluated(cluster, run, idx, values, res), plans.size, run.size, shortfall


def _smallest_shortfall(
    model: ModelSpec,
    cluster: ClusterSpec,
    workload: TrainWorkload,
    ok: PlanArrays,
    lower: NDArray[np.float64],
) -> tuple[float, ParallelPlan] | None:
    """Full evaluation of the plans with the smallest model-state bound: (overflow bytes, plan)."""
    if ok.size == 0:
        return None
    probe = ok.take(np.argsort(lower)[:NO_FIT_PROBES])
    res = evaluate_train(model, cluster, workload, probe)
    i = int(np.argmin(res.memory_overflow_bytes))
    return float(res.memory_overflow_bytes[i]), probe.plan(i)


def device_counts(cluster: ClusterSpec, scale_down: int) -> list[int]:
    """The cluster's size and up to `scale_down` halvings (whole nodes only)."""
    counts, n = [cluster.num_devices], cluster.num_devices
    for _ in range(scale_down):
        n //= 2
        if n < cluster.devices_per_node or n % cluster.devices_per_node:
            break
        counts.append(n)
    return counts


def search_train(
    model: ModelSpec,
    cluster: ClusterSpec,
    workload: TrainWorkload,
    objective: str = "time",
    top: int = 5,
    scale_down: int = 0,
    opts: SpaceOptions | None = None,
) -> TrainSearch:
    """Best plans for training `model` on `cluster` (and on halvings of it if scale_down > 0)."""
    from scalelab.plan.explain import explain, no_fit_message

    t0 = time.perf_counter()
    opts = opts or SpaceOptions()
    rejected: dict[str, int] = {}
    groups, candidates, evaluated, shortfalls = [], 0, 0, []
    for n in device_counts(cluster, scale_down):
        sub = cluster if n == cluster.num_devices else cluster.model_copy(update={"num_devices": n})
        ev, c, e, short = _search_one(model, sub, workload, opts, rejected)
        groups.append(ev)
        candidates, evaluated = candidates + c, evaluated + e
        if short is not None:
            shortfalls.append((short[0], short[1], n))
    result = _rank(model, workload, groups, objective, top)
    result.num_candidates, result.num_evaluated = candidates, evaluated
    after = rejected.pop(AFTER_EVALUATION, 0)
    result.num_rejected_by_reason = {k: v for k, v in sorted(rejected.items()) if v}
    result.num_rejected_after_evaluation = {"memory": after} if after else {}
    result.num_fitting = evaluated - after
    if not result.plans and shortfalls:
        result.no_fit_message = no_fit_message(min(shortfalls, key=lambda s: s[0]))
    result.explanation = explain(result)
    result.search_s = time.perf_counter() - t0
    return result


def _rank(
    model: ModelSpec, workload: TrainWorkload, groups: list[Evaluated], objective: str, top: int
) -> TrainSearch:
    if objective not in OBJECTIVES:
        raise ValueError(objective)
    keys = OBJECTIVES
    flat = {
        k: np.concatenate([g.values[k] for g in groups]) if groups else np.zeros(0) for k in keys
    }
    owner = (
        np.concatenate([np.full(len(g.index), j) for j, g in enumerate(groups)])
        if groups
        else np.zeros(0)
    )
    local = np.concatenate([np.arange(len(g.index)) for g in groups]) if groups else np.zeros(0)
    other = "cost" if objective == "time" else "time"
    order = np.lexsort((flat[other], flat[objective]))

    def ranked(pos: int, rank: int) -> RankedPlan:
        g = groups[int(owner[pos])]
        i = int(g.index[int(local[pos])])
        assert g.res is not None
        pred = prediction_at(model, g.cluster, workload, g.plans, g.res, i)
        return RankedPlan(
            rank,
            g.cluster.num_devices,
            pred,
            float(flat["time"][pos]),
            float(flat["cost"][pos]),
            float(flat["energy"][pos]),
        )

    memory = np.concatenate(
        [g.res.step.memory.total_bytes[g.index] for g in groups if g.res is not None]
        or [np.zeros(0)]
    )
    # GPU count and memory per GPU of each plan, so a figure can draw the trade-off per count
    sizes = np.array([g.cluster.num_devices for g in groups], dtype=float)
    flat["num_devices"] = sizes[owner.astype(int)] if groups else np.zeros(0)
    flat["memory_bytes"] = np.asarray(memory, dtype=float)
    order = np.lexsort((memory, flat[other], flat[objective]))
    rank, starts, ties = _distinct(order, (flat["time"], flat["cost"], memory))
    top_plans = [
        replace(ranked(int(pos), r + 1), num_equivalent=int(ties[r]))
        for r, pos in enumerate(order[starts[:top]])
    ]
    front = pareto_front(flat["time"], flat["cost"])
    firsts = set(order[starts].tolist()) if len(front) else set()
    pareto = [
        replace(ranked(int(pos), int(rank[pos])), num_equivalent=int(ties[rank[pos] - 1]))
        for pos in front
        if int(pos) in firsts
    ]
    return TrainSearch(objective, top_plans, pareto, 0, 0, {}, 0.0, scatter=flat)


def _distinct(
    order: NDArray[np.int64], values: tuple[NDArray[np.float64], ...], rel: float = 1e-9
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Plans equal in every array of `values` (to `rel`) share one rank. Returns the rank of each
    plan (1-based), the indices into `order` where a new rank starts, and per rank the number of
    further plans tying with its first."""
    n = order.size
    same = np.ones(max(n - 1, 0), dtype=bool)
    for v in values:
        sv = v[order]
        same &= np.abs(np.diff(sv)) <= rel * np.maximum(np.abs(sv[:-1]), 1e-300)
    new = np.concatenate([np.ones(min(n, 1), dtype=bool), ~same])
    starts = np.flatnonzero(new)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.cumsum(new)
    ties = np.diff(np.append(starts, n)) - 1
    return rank, starts, ties


def pareto_front(time_s: NDArray[np.float64], cost: NDArray[np.float64]) -> list[int]:
    """Indices of the plans no other plan beats on both time and cost (sorted by time)."""
    order = np.lexsort((cost, time_s))
    front, best = [], np.inf
    for i in order:
        if cost[i] < best:
            front.append(int(i))
            best = cost[i]
    return front


def best_training_plan(
    model: ModelSpec, cluster: ClusterSpec, workload: TrainWorkload
) -> ParallelPlan:
    """The fastest plan that fits (a small space: for report defaults); raises if none fits."""
    from scalelab.core.errors import InfeasiblePlan

    found = search_train(
        model,
        cluster,
        workload,
        "time",
        top=1,
        opts=SpaceOptions(micro_batches=(1, 2), zero_stages=(1,), context_parallel=False),
    )
    if not found.plans:
        raise InfeasiblePlan(found.no_fit_message or "no plan fits")
    return found.plans[0].prediction.plan


def evaluate_plans(
    model: ModelSpec, cluster: ClusterSpec, workload: TrainWorkload, plans: list[ParallelPlan]
) -> list[TrainPrediction]:
    """Predictions of explicit plans through the planner's vectorized path (must pass plan_check)."""
    arrays = from_plans(plans, model, cluster.num_devices, workload.global_batch_size)
    res = evaluate_train(model, cluster, workload, arrays)
    return [prediction_at(model, cluster, workload, arrays, res, i) for i in range(len(plans))]
