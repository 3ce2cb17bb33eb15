"""Serving planner: search deployments (TP/EP/DP/PP, batch, collocated or prefill/decode disaggregated)
that meet TTFT and TPOT targets at the lowest cost per output token, plus the latency-throughput
Pareto frontier. Each plan is evaluated once for a whole grid of batch sizes (numpy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec, ParallelPlan
from scalelab.perf.serve.predict import (
    collocated_rates,
    evaluate_decode,
    evaluate_prefill,
    make_deployment,
)
from scalelab.perf.serve.step import kv_transfer_s
from scalelab.plan.serve_space import PROMPTS_PER_GROUP, batch_grid, candidate_plans, plan_label

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ServeOption:
    """One deployment: its plan(s), pool sizes, batch and predicted metrics (SI units)."""

    mode: str  # "collocated" or "disaggregated"
    decode_plan: ParallelPlan
    prefill_plan: ParallelPlan | None
    prefill_devices: int  # 0 when collocated
    decode_devices: int
    sequences_per_replica: float
    ttft_s: float
    tpot_s: float
    output_tokens_per_s_per_device: float  # system rate over every device paid for
    devices_per_node: int
    usd_per_million_output_tokens: float
    max_concurrency: int
    idle_devices: int = 0  # devices paid for that no whole replica can use

    @property
    def output_tokens_per_s_per_node(self) -> float:
        return self.output_tokens_per_s_per_device * self.devices_per_node

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "deployment": self.label,
            "decode_plan": self.decode_plan.model_dump(),
            "prefill_plan": self.prefill_plan.model_dump() if self.prefill_plan else None,
            "prefill_devices": self.prefill_devices,
            "decode_devices": self.decode_devices,
            "sequences_per_replica": self.sequences_per_replica,
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "output_tokens_per_s_per_device": self.output_tokens_per_s_per_device,
            "output_tokens_per_s_per_node": self.output_tokens_per_s_per_node,
            "devices_per_node": self.devices_per_node,
            "idle_devices": self.idle_devices,
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "max_concurrency": self.max_concurrency,
        }

    @property
    def label(self) -> str:
        idle = f" ({self.idle_devices} idle)" if self.idle_devices else ""
        if self.prefill_plan is None:
            return plan_label(self.decode_plan) + idle
        return (
            f"prefill {plan_label(self.prefill_plan)} x{self.prefill_devices} / "
            f"decode {plan_label(self.decode_plan)} x{self.decode_devices}" + idle
        )

    def meets(self, w: InferenceWorkload) -> bool:
        return _ok(self.ttft_s, w.ttft_target_s) and _ok(self.tpot_s, w.tpot_target_s)


def _ok(value: float, target: float | None) -> bool:
    return target is None or value <= target


@dataclass(frozen=True)
class ServePlan:
    """The cheapest options meeting the targets (best first) and the TPOT-throughput frontier."""

    options: list[ServeOption]
    pareto: list[ServeOption]
    num_evaluated: int

    @property
    def best(self) -> ServeOption:
        return self.options[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (`plan-serve --json`, docs/json.md)."""
        return {
            "best": self.best.to_dict(),
            "options": [o.to_dict() for o in self.options],
            "pareto": [o.to_dict() for o in self.pareto],
            "evaluated": self.num_evaluated,
        }


@dataclass(frozen=True)
class _Rows:
    """Per (plan, batch) evaluations of one phase; arrays aligned, `plan` indexes the plan list."""

    plan: NDArray[np.int64]
    batch: Array
    latency_s: Array  # TPOT (decode) or TTFT incl. KV handoff (prefill)
    tokens_per_s_per_replica: Array  # output (decode) or input (prefill)
    devices: NDArray[np.int64]  # per replica
    max_concurrency: NDArray[np.int64]  # per replica


def _evaluate(
    m: ModelSpec, cluster: ClusterSpec, w: InferenceWorkload, plans: list[ParallelPlan]
) -> tuple[_Rows, _Rows]:
    dec: list[tuple[int, Array, Array, Array, int, int]] = []
    pre: list[tuple[int, Array, Array, Array, int, int]] = []
    for i, plan in enumerate(plans):
        try:
            d = make_deployment(m, cluster, plan, w)
        except InfeasiblePlan:
            continue
        lay, cap = d.layout, d.kv.max_concurrency_per_instance
        if not d.kv.fits_weights or cap < 1:
            continue
        n_mb = 2 if lay.dual_overlap else 1
        seqs = batch_grid(float(lay.attn_dp * lay.pp * n_mb), cap)
        if seqs.size:
            ev = evaluate_decode(d, seqs)
            dec.append(
                (
                    i,
                    seqs,
                    ev.tpot_s,
                    seqs * ev.tokens_per_step / ev.step.step_s,
                    lay.instance_devices,
                    cap,
                )
            )
        pe = evaluate_prefill(d, np.asarray(PROMPTS_PER_GROUP))
        handoff = kv_transfer_s(m, lay, cluster, w.prompt_tokens, w.kv_dtype or "bf16")
        pre.append(
            (
                i,
                pe.prompts_per_group,
                pe.ttft_s + handoff,
                pe.input_tokens_per_s_per_device * lay.instance_devices,
                lay.instance_devices,
                cap,
            )
        )
    return _stack(dec), _stack(pre)


def _stack(rows: list[tuple[int, Array, Array, Array, int, int]]) -> _Rows:
    if not rows:
        e = np.zeros(0)
        return _Rows(e.astype(np.int64), e, e, e, e.astype(np.int64), e.astype(np.int64))
    rep = [np.full(r[1].shape, 1) for r in rows]
    return _Rows(
        np.concatenate([r[0] * k for r, k in zip(rows, rep, strict=True)]),
        np.concatenate([r[1] for r in rows]),
        np.concatenate([r[2] for r in rows]),
        np.concatenate([r[3] for r in rows]),
        np.concatenate([r[4] * k for r, k in zip(rows, rep, strict=True)]),
        np.concatenate([r[5] * k for r, k in zip(rows, rep, strict=True)]),
    )


def _collocated(
    cluster: ClusterSpec, w: InferenceWorkload, plans: list[ParallelPlan], dec: _Rows, pre: _Rows
) -> list[ServeOption]:
    """Each device alternates prefill and decode in the prompt:output ratio (see predict_inference);
    TTFT from the plan's fastest prefill batch, prefill rate from its best batch within the TTFT target."""
    n, out = cluster.num_devices, []
    prefill = {
        int(i): _prefill_choice(pre, pre.plan == i, w.ttft_target_s) for i in np.unique(pre.plan)
    }
    for j in range(dec.plan.size):
        ttft, p_rep = prefill[int(dec.plan[j])]
        d_rep = float(dec.tokens_per_s_per_replica[j])
        replicas = n // int(dec.devices[j])
        total = collocated_rates(w, d_rep, p_rep)[0] * replicas
        out.append(
            ServeOption(
                "collocated",
                plans[int(dec.plan[j])],
                None,
                0,
                n,
                float(dec.batch[j]),
                ttft,
                float(dec.latency_s[j]),
                total / n,
                cluster.devices_per_node,
                _usd(cluster, n, total),
                int(dec.max_concurrency[j]) * replicas,
                n - replicas * int(dec.devices[j]),
            )
        )
    return out


def _prefill_choice(
    pre: _Rows, mask: NDArray[np.bool_], target: float | None
) -> tuple[float, float]:
    """(fastest TTFT, best input rate per replica within the TTFT target, else at the fastest TTFT)."""
    lat, rate = pre.latency_s[mask], pre.tokens_per_s_per_replica[mask]
    ok = lat <= (target or math.inf)
    return float(lat.min()), float(rate[ok].max() if ok.any() else rate[np.argmin(lat)])


def _usd(cluster: ClusterSpec, devices: int, tokens_per_s: float) -> float:
    return (
        cluster.accelerator.price_usd_per_hour * devices * 1e6 / (3600.0 * tokens_per_s)
        if tokens_per_s > 0
        else math.inf
    )


def _disaggregated(
    cluster: ClusterSpec, w: InferenceWorkload, plans: list[ParallelPlan], dec: _Rows, pre: _Rows
) -> list[ServeOption]:
    """For every decode row, the node split and prefill plan that maximize the system output rate
    min(decode rate, prefill rate / (prompt/output)); prefill rows must meet the TTFT target. Each
    pool holds whole replicas; devices left over are counted idle, and among splits with the same
    rate the one leaving fewest devices idle wins."""
    dpn, n = cluster.devices_per_node, cluster.num_devices
    if n < 2 * dpn or not pre.plan.size or not dec.plan.size:
        return []
    ratio = w.prompt_tokens / w.output_tokens
    splits = np.arange(1, n // dpn) * dpn  # prefill devices, whole nodes
    ok = pre.latency_s <= (w.ttft_target_s or math.inf)
    ok = ok if ok.any() else pre.latency_s == pre.latency_s.min()
    p_reps = splits[:, None] // pre.devices[ok][None, :]  # [S, P]
    p_tot = pre.tokens_per_s_per_replica[ok][None, :] * p_reps
    best_p = p_tot.argmax(axis=1)
    rows = np.arange(splits.size)
    p_best = p_tot[rows, best_p]  # [S]
    p_idle = splits - p_reps[rows, best_p] * pre.devices[ok][best_p]  # [S]
    d_reps = (n - splits)[None, :] // dec.devices[:, None]  # [D, S]
    d_tot = dec.tokens_per_s_per_replica[:, None] * d_reps
    idle = (n - splits)[None, :] - d_reps * dec.devices[:, None] + p_idle[None, :]
    system = np.minimum(d_tot, p_best[None, :] / ratio)
    score = system * (1.0 - 1e-9 * idle)  # equal rates: fewer idle devices first
    k = score.argmax(axis=1)
    out = []
    pre_idx = np.flatnonzero(ok)
    for j in range(dec.plan.size):
        s, total = int(k[j]), float(system[j, k[j]])
        if total <= 0:
            continue
        p_row = int(pre_idx[best_p[s]])
        out.append(
            ServeOption(
                "disaggregated",
                plans[int(dec.plan[j])],
                plans[int(pre.plan[p_row])],
                int(splits[s]),
                n - int(splits[s]),
                float(dec.batch[j]),
                float(pre.latency_s[p_row]),
                float(dec.latency_s[j]),
                total / n,
                dpn,
                _usd(cluster, n, total),
                int(dec.max_concurrency[j]) * int(d_reps[j, s]),
                int(idle[j, s]),
            )
        )
    return out


def pareto_front(options: list[ServeOption]) -> list[ServeOption]:
    """Options no other beats on both TPOT (lower) and output tokens/s per device (higher), by TPOT."""
    front: list[ServeOption] = []
    rate = "output_tokens_per_s_per_device"
    for o in sorted(options, key=lambda o: (o.tpot_s, -getattr(o, rate))):
        if not front or getattr(o, rate) > getattr(front[-1], rate):
            front.append(o)
    return front


def plan_serve(
    m: ModelSpec,
    cluster: ClusterSpec,
    w: InferenceWorkload,
    top: int = 10,
    disaggregation: bool = True,
) -> ServePlan:
    """Cheapest deployments meeting `w.ttft_target_s` / `w.tpot_target_s`; InfeasiblePlan naming the
    target that cannot be met and the best achievable value otherwise."""
    plans = candidate_plans(m, cluster)
    dec, pre = _evaluate(m, cluster, w, plans)
    if not dec.plan.size:
        raise InfeasiblePlan(
            f"{m.name} does not fit on {cluster.name} with any plan tried "
            f"(weights + one sequence's KV cache exceed {cluster.accelerator.id} memory)"
        )
    options = _collocated(cluster, w, plans, dec, pre)
    if disaggregation:
        options += _disaggregated(cluster, w, plans, dec, pre)
    good = sorted((o for o in options if o.meets(w)), key=lambda o: o.usd_per_million_output_tokens)
    if not good:
        raise InfeasiblePlan(_why_not(options, w, cluster))
    within_ttft = [o for o in options if _ok(o.ttft_s, w.ttft_target_s)]
    return ServePlan(good[:top], pareto_front(within_ttft), dec.plan.size + pre.plan.size)


def _why_not(options: list[ServeOption], w: InferenceWorkload, cluster: ClusterSpec) -> str:
    best_ttft = min(options, key=lambda o: o.ttft_s)
    best_tpot = min(options, key=lambda o: o.tpot_s)
    ms, ttft, tpot = 1e3, w.ttft_target_s or math.inf, w.tpot_target_s or math.inf
    if best_ttft.ttft_s > ttft:
        return (
            f"TTFT target {ttft * ms:.3g} ms cannot be met on {cluster.name}: best achievable "
            f"TTFT is {best_ttft.ttft_s * ms:.3g} ms ({best_ttft.label})"
        )
    if best_tpot.tpot_s > tpot:
        return (
            f"TPOT target {tpot * ms:.3g} ms cannot be met on {cluster.name}: best achievable "
            f"TPOT is {best_tpot.tpot_s * ms:.3g} ms ({best_tpot.label})"
        )
    joint = min((o for o in options if _ok(o.ttft_s, w.ttft_target_s)), key=lambda o: o.tpot_s)
    return (
        f"TPOT target {tpot * ms:.3g} ms cannot be met together with TTFT <= "
        f"{ttft * ms:.3g} ms on {cluster.name}: best TPOT within the TTFT target is "
        f"{joint.tpot_s * ms:.3g} ms ({joint.label})"
    )
