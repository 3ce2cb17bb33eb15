"""Training prediction: step time with breakdown, MFU/HFU, throughput, memory fit and run cost.

`evaluate_train` works on N plans at once (the planner's path); `predict_train` runs the very same
code on a batch of one, so both give identical numbers. MFU follows the DeepSeek-V3 / Llama 3
convention: model FLOPs (6 x active matmul weights + attention, no recompute) against the BF16 dense
peak, whatever precision the plan trains in; HFU adds recomputation and counts the full attention
square (Narayanan et al. SC'21 eq. 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from scalelab.core.scenario import Scenario
from scalelab.core.specs import ClusterSpec, ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.cost import RunTotals, run_totals
from scalelab.perf.kernels.measured import kernel_params_for
from scalelab.perf.kernels.timing import gemm_rate
from scalelab.perf.model.flops import (
    attention_core_fwd_flops_per_token,
    forward_flops_per_token,
    matmul_fwd_flops_per_token,
    mtp_train_flops_per_token,
)
from scalelab.perf.train.ops import Array
from scalelab.perf.train.plan_arrays import PlanArrays, from_plans
from scalelab.perf.train.plan_check import check_plan
from scalelab.perf.train.power import KERNEL_PARTS, throttle_frac
from scalelab.perf.train.step import StepArrays, evaluate_step

DEVICE_KINDS = ("first stage", "middle stage", "last stage")


def model_flops_per_token(m: ModelSpec, seq_len: int, causal: bool) -> float:
    """Forward + backward FLOPs per token (3 x forward, LM-head matmul included also when tied)."""
    return 3.0 * forward_flops_per_token(m, seq_len, causal)


def hardware_flops_per_token(m: ModelSpec, seq_len: int, recompute: str) -> float:
    """Narayanan et al. SC'21 eq. 3 convention: full attention square, plus the recomputed forward
    of the layers (full) or of the attention core (selective); the head is never recomputed."""
    base = model_flops_per_token(m, seq_len, causal=False)
    head = 2.0 * m.vocab_size * m.hidden_size
    extra = {
        "none": 0.0,
        "full": base / 3.0 - head,
        "selective": attention_core_fwd_flops_per_token(m, seq_len, causal=False),
    }[recompute]
    return base + extra


def step_work_per_device(
    model: ModelSpec,
    cluster: ClusterSpec,
    workload: TrainWorkload,
    plans: PlanArrays,
    st: StepArrays,
) -> tuple[Array, Array]:
    """(bf16-equivalent FLOPs, HBM bytes) one device executes per step, for the power model.
    FLOPs: 3 x forward (causal as the workload) + MTP + recompute, the fp8 share of linear layers
    weighted by peak_bf16 / peak_fp8 (perf/energy.py: equal power per clock in every dtype).
    Bytes: ASSUMPTION, kernel time beyond those FLOPs at the fitted GEMM rates, plus the optimizer,
    streams HBM at the copy fraction (the step model keeps no per-kernel byte count)."""
    m, acc, seq, causal = model, cluster.accelerator, workload.seq_len, workload.causal_attention
    head = 2.0 * m.vocab_size * m.hidden_size
    fwd = forward_flops_per_token(m, seq, causal)
    extra = np.array([0.0, attention_core_fwd_flops_per_token(m, seq, causal), fwd - head])
    per_token = 3.0 * fwd + mtp_train_flops_per_token(m, seq, causal) + extra[plans.recompute]
    lin = (matmul_fwd_flops_per_token(m) - head) * np.where(plans.recompute == 2, 4.0, 3.0)
    fp8 = plans.fp8 & (acc.peak_fp8_flops_per_s is not None)
    lin8 = np.where(fp8, lin, 0.0) * workload.tokens_per_step / cluster.num_devices
    flops = per_token * workload.tokens_per_step / cluster.num_devices
    sm_frac = np.clip(1.0 - plans.comm_sms / float(acc.num_compute_units or 1), 0.05, 1.0)
    wide = np.where(
        plans.fp32,
        gemm_rate("fp32", acc, sm_frac).flops_per_s,
        gemm_rate("bf16", acc, sm_frac).flops_per_s,
    )
    gemm_s = lin8 / gemm_rate("fp8", acc, sm_frac).flops_per_s + (flops - lin8) / wide
    memory_s = np.maximum(st.breakdown_s["compute"] - gemm_s, 0.0) + st.breakdown_s["optimizer"]
    hbm_bytes = memory_s * kernel_params_for(acc).copy_frac * acc.hbm_bandwidth_bytes_per_s
    bf16_equiv = flops - lin8 * (1.0 - acc.peak_bf16_flops_per_s / acc.peak_flops_per_s("fp8"))
    return bf16_equiv, hbm_bytes


def _throttled(st: StepArrays, theta: Array) -> StepArrays:
    """The step with its kernel time stretched by the power-limited clock fraction `theta`."""
    parts = {k: (v / theta if k in KERNEL_PARTS else v) for k, v in st.breakdown_s.items()}
    step = st.step_time_s + sum(parts[k] - st.breakdown_s[k] for k in KERNEL_PARTS)
    return replace(
        st,
        step_time_s=step,
        f_s=st.f_s / theta,
        b_s=st.b_s / theta,
        w_s=st.w_s / theta,
        breakdown_s=parts,
        clock_frac=theta,
    )


@dataclass(frozen=True)
class TrainArrays:
    """Per-plan results of evaluate_train (arrays over plans)."""

    step: StepArrays
    tokens_per_s: Array
    mfu: Array
    mfu_causal: Array
    mfu_noncausal: Array
    hfu: Array
    model_flops_per_s_per_device: Array
    hardware_flops_per_s_per_device: Array
    fits_in_memory: np.ndarray
    memory_overflow_bytes: Array
    run: RunTotals


def evaluate_train(
    model: ModelSpec, cluster: ClusterSpec, workload: TrainWorkload, plans: PlanArrays
) -> TrainArrays:
    """Every metric for every plan (plans must be feasible: see plan_check.check_codes)."""
    st = evaluate_step(model, cluster, workload, plans)
    flops_dev, bytes_dev = step_work_per_device(model, cluster, workload, plans, st)
    st = _throttled(
        st, throttle_frac(cluster.accelerator, st.breakdown_s, st.step_time_s, flops_dev, bytes_dev)
    )
    n, seq = cluster.num_devices, workload.seq_len
    tokens_per_s = workload.tokens_per_step / st.step_time_s
    peak = cluster.accelerator.peak_bf16_flops_per_s
    causal = model_flops_per_token(model, seq, True)
    noncausal = model_flops_per_token(model, seq, False)
    model_flops = (causal if workload.causal_attention else noncausal) * tokens_per_s / n
    hw_per_token = np.array(
        [hardware_flops_per_token(model, seq, r) for r in ("none", "selective", "full")]
    )
    hw_flops = hw_per_token[plans.recompute] * tokens_per_s / n
    total_mem = st.memory.total_bytes
    hbm = cluster.accelerator.hbm_bytes
    return TrainArrays(
        st,
        tokens_per_s,
        model_flops / peak,
        causal * tokens_per_s / n / peak,
        noncausal * tokens_per_s / n / peak,
        hw_flops / peak,
        model_flops,
        hw_flops,
        total_mem <= hbm,
        np.maximum(total_mem - hbm, 0.0),
        run_totals(cluster, workload, st.step_time_s, flops_dev, bytes_dev),
    )


@dataclass(frozen=True)
class TrainPrediction:
    """One plan's prediction; every field SI with its unit in the name."""

    plan: ParallelPlan
    step_time_s: float
    tokens_per_s: float
    mfu: float
    mfu_causal: float
    mfu_noncausal: float
    hfu: float
    model_flops_per_s_per_device: float
    hardware_flops_per_s_per_device: float
    num_micro_batches: int
    pipeline_bubble_s: float
    optimizer_s: float
    breakdown_s: dict[str, float]
    memory_per_device_bytes: float
    memory_breakdown_bytes: dict[str, float]
    activation_breakdown_bytes: dict[str, float]  # activations by Korthikanti Table 2 term
    memory_device: str
    hbm_bytes: float
    fits_in_memory: bool
    memory_overflow_bytes: float
    train_tokens: float | None = None
    run_time_s: float | None = None
    device_hours: float | None = None
    cost_usd: float | None = None
    energy_kwh: float | None = None
    co2_kg: float | None = None
    joules_per_token: float | None = None
    avg_device_power_w: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the `predict train --json` payload)."""
        out: dict[str, Any] = {k: v for k, v in self.__dict__.items() if k != "plan"}
        out["plan"] = self.plan.model_dump()
        return out


def prediction_at(
    model: ModelSpec,
    cluster: ClusterSpec,
    workload: TrainWorkload,
    plans: PlanArrays,
    res: TrainArrays,
    i: int,
) -> TrainPrediction:
    """Plan i of an evaluate_train result as a TrainPrediction."""
    st, mem = res.step, res.step.memory
    breakdown = {k: float(v[i]) for k, v in st.breakdown_s.items()}
    has_tokens = workload.train_tokens is not None

    def opt(x: Array) -> float | None:
        return float(x[i]) if has_tokens else None

    return TrainPrediction(
        plan=plans.plan(i),
        step_time_s=float(st.step_time_s[i]),
        tokens_per_s=float(res.tokens_per_s[i]),
        mfu=float(res.mfu[i]),
        mfu_causal=float(res.mfu_causal[i]),
        mfu_noncausal=float(res.mfu_noncausal[i]),
        hfu=float(res.hfu[i]),
        model_flops_per_s_per_device=float(res.model_flops_per_s_per_device[i]),
        hardware_flops_per_s_per_device=float(res.hardware_flops_per_s_per_device[i]),
        num_micro_batches=int(st.num_micro[i]),
        pipeline_bubble_s=breakdown["pipeline_bubble"],
        optimizer_s=breakdown["optimizer"] + breakdown["dp_comm"],
        breakdown_s=breakdown,
        memory_per_device_bytes=float(mem.total_bytes[i]),
        memory_breakdown_bytes={
            "weights": float(mem.weights_bytes[i]),
            "gradients": float(mem.gradients_bytes[i]),
            "optimizer_states": float(mem.optimizer_bytes[i]),
            "activations": float(mem.activations_bytes[i]),
            "comm_buffers": float(mem.buffers_bytes[i]),
            "runtime_reserve": float(mem.reserve_bytes[i]),
        },
        activation_breakdown_bytes=_activation_terms(st, i),
        memory_device=DEVICE_KINDS[int(mem.device[i])],
        hbm_bytes=cluster.accelerator.hbm_bytes,
        fits_in_memory=bool(res.fits_in_memory[i]),
        memory_overflow_bytes=float(res.memory_overflow_bytes[i]),
        train_tokens=workload.train_tokens,
        run_time_s=opt(res.run.run_time_s),
        device_hours=opt(res.run.device_hours),
        cost_usd=opt(res.run.cost_usd),
        energy_kwh=opt(res.run.energy_kwh),
        co2_kg=opt(res.run.co2_kg),
        joules_per_token=float(res.run.joules_per_token[i]),
        avg_device_power_w=float(res.run.avg_device_power_w[i]),
    )


def _activation_terms(st: StepArrays, i: int) -> dict[str, float]:
    """The activations split into the Korthikanti et al. 2022 Table 2 terms of the layers (norm
    inputs, GEMM inputs, attention Q/K/V and output, attention scores, activation-function inputs,
    dropout masks, layer inputs kept by full recompute) and the rest (embedding, head and loss,
    one layer re-created by full recompute); the terms sum to the activations."""
    mem = st.memory
    layers = float(mem.layer_activations_bytes[i])
    out = {
        k: layers * float(np.broadcast_to(v, mem.total_bytes.shape)[i])
        for k, v in st.activation_shares.items()
        if float(np.broadcast_to(v, mem.total_bytes.shape)[i]) > 0
    }
    out["embedding_head_and_working_set"] = float(mem.activations_bytes[i]) - layers
    return out


def predict_train(scenario: Scenario) -> TrainPrediction:
    """Predict one training step (and run) of the scenario's plan; InfeasiblePlan if it cannot run."""
    workload = scenario.workload
    if not isinstance(workload, TrainWorkload):
        raise TypeError("predict_train needs a training workload")
    model, cluster = scenario.model, scenario.cluster
    plans = from_plans([scenario.plan], model, cluster.num_devices, workload.global_batch_size)
    check_plan(model, workload, cluster.num_devices, plans)
    res = evaluate_train(model, cluster, workload, plans)
    return prediction_at(model, cluster, workload, plans, res, 0)
