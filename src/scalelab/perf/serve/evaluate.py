"""A deployment (layout + KV capacity) and its decode and prefill passes over arrays of batch sizes,
with the operating point each phase runs at (perf/serve/operating.py).

`batch` for decode is concurrent sequences per replica (one copy of the weights); for prefill it
is prompts per attention-DP group per pass (fractional = chunked).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec, ParallelPlan
from scalelab.perf.serve.kv import KvCapacity, kv_capacity
from scalelab.perf.serve.layout import Layout, make_layout, weight_bytes_per_device
from scalelab.perf.serve.operating import (
    DEFAULT_TPOT_TARGET_S,
    DEFAULT_TTFT_TARGET_S,
    MAX_PREFILL_TOKENS_PER_DEVICE,
    STEPS_PER_OCTAVE,
    OperatingPoint,
    batch_grid,
    choose,
    fixed,
)
from scalelab.perf.serve.step import StepTimes, run_pass

Array = NDArray[np.float64]


def tokens_per_step(m: ModelSpec, w: InferenceWorkload) -> float:
    """Tokens a sequence gains per decode step with MTP speculation: 1 + p + p^2 + ... + p^D for draft
    acceptance p and depth D (each draft counts only if all earlier ones were accepted; DeepSeek-V3 TR
    Sec 5.4.3: 85-90% acceptance of the 2nd token gives 1.8x tokens per second)."""
    if w.mtp_acceptance is None or m.mtp_depth == 0:
        return 1.0
    return float(sum(w.mtp_acceptance**i for i in range(m.mtp_depth + 1)))


def mtp_modules(m: ModelSpec, w: InferenceWorkload) -> int:
    return m.mtp_depth if (w.mtp_acceptance is not None) else 0


def decode_context(w: InferenceWorkload) -> float:
    """Average cached context of a decoding sequence: prompt + half the output unless given."""
    return float(w.avg_context_tokens or w.prompt_tokens + w.output_tokens / 2)


def effective_workload(m: ModelSpec, w: InferenceWorkload) -> InferenceWorkload:
    """The workload with the checkpoint's dtype when it names none (vLLM/SGLang load a checkpoint
    in its published format: DeepSeek-V3's FP8 weights are served as FP8)."""
    if "dtype" in w.model_fields_set or m.checkpoint_dtype is None:
        return w
    return w.model_copy(update={"dtype": m.checkpoint_dtype})


@dataclass(frozen=True)
class Deployment:
    """Everything fixed by (model, cluster, plan, workload) before choosing a batch."""

    model: ModelSpec
    cluster: ClusterSpec
    plan: ParallelPlan
    workload: InferenceWorkload
    layout: Layout
    kv: KvCapacity


def make_deployment(
    m: ModelSpec, cluster: ClusterSpec, plan: ParallelPlan, w: InferenceWorkload
) -> Deployment:
    """Layout and KV capacity (per device: usable HBM minus weights, sequences of prompt + output)."""
    w = effective_workload(m, w)
    lay = make_layout(m, cluster, plan)
    weights = weight_bytes_per_device(m, lay, w.dtype, with_mtp=mtp_modules(m, w) > 0)
    kv = kv_capacity(
        m,
        lay,
        cluster.accelerator,
        w.prompt_tokens + w.output_tokens,
        w.kv_dtype or "bf16",
        weights,
        w.kv_fragmentation_frac,
    )
    return Deployment(m, cluster, plan, w, lay, kv)


def with_overlap(d: Deployment, dual: bool) -> Deployment:
    """The deployment with two-micro-batch overlap switched on or off."""
    return replace(d, layout=replace(d.layout, dual_overlap=dual, overlap_auto=False))


def micro_batches(lay: Layout) -> int:
    return 2 if lay.dual_overlap else 1


@dataclass(frozen=True)
class DecodeEval:
    """Decode at `sequences` concurrent sequences per replica (arrays, one entry per batch)."""

    sequences: Array
    step: StepTimes
    tokens_per_step: float

    @property
    def tpot_s(self) -> Array:
        return self.step.step_s / self.tokens_per_step

    def output_tokens_per_s_per_device(self, instance_devices: int) -> Array:
        return self.sequences * self.tokens_per_step / self.step.step_s / instance_devices


def _check_kv(d: Deployment) -> None:
    if d.kv.max_concurrency_per_instance < 1:
        raise InfeasiblePlan(
            f"the weights ({d.kv.weight_bytes_per_device / 2**30:.1f} GiB per device) leave no "
            f"room for a KV cache on {d.cluster.accelerator.id}"
        )


def evaluate_decode(d: Deployment, sequences: ArrayLike | None = None) -> DecodeEval:
    """One decode step for each entry of `sequences` (per replica). None: the decode operating
    point (decode_point)."""
    m, w, lay = d.model, d.workload, d.layout
    if sequences is None:
        sequences = decode_point(d).batch
    seqs = np.asarray(sequences, dtype=float)
    slots = lay.attn_dp * lay.pp * micro_batches(lay)
    step = run_pass(
        m,
        lay,
        w,
        d.cluster,
        seqs / slots,
        1 + mtp_modules(m, w),
        decode_context(w),
        prefill=False,
        mtp_modules=mtp_modules(m, w),
    )
    return DecodeEval(seqs, step, tokens_per_step(m, w))


def _fixed_decode_batch(d: Deployment) -> tuple[float, str] | None:
    m, w, lay = d.model, d.workload, d.layout
    if w.decode_tokens_per_device is not None:
        q_len = 1 + mtp_modules(m, w)
        slots = lay.attn_dp * lay.pp * micro_batches(lay)
        seqs = w.decode_tokens_per_device * lay.tp / q_len * slots
        return seqs, f"decode_tokens_per_device = {w.decode_tokens_per_device} per micro-batch"
    if w.batch_size is not None:
        return float(w.batch_size), f"batch_size = {w.batch_size} sequences per replica"
    return None


def decode_point(d: Deployment) -> OperatingPoint:
    """The decode batch: the workload's, else the largest within the TPOT target (default 50 ms)
    up to the KV-cache limit."""
    lay, w = d.layout, d.workload
    cap = d.kv.max_concurrency_per_instance
    slots = float(lay.attn_dp * lay.pp * micro_batches(lay))
    fixed_batch = _fixed_decode_batch(d)
    if fixed_batch is None:
        _check_kv(d)
    grid = batch_grid(slots, max(cap, slots), STEPS_PER_OCTAVE)
    ev = evaluate_decode(d, grid)
    rate = ev.output_tokens_per_s_per_device(lay.instance_devices)
    if fixed_batch is not None:
        return fixed("decode", fixed_batch[0], fixed_batch[1], grid, ev.tpot_s, rate)
    target = w.tpot_target_s or DEFAULT_TPOT_TARGET_S
    limit = f"the KV-cache limit, {cap:,} sequences"
    return choose("decode", grid, ev.tpot_s, rate, target, w.tpot_target_s is not None, limit)


@dataclass(frozen=True)
class PrefillEval:
    """One prefill pass: `prompts_per_group` prompts per attention-DP group (fractional = chunked)."""

    prompts_per_group: Array
    step: StepTimes
    ttft_s: Array
    input_tokens_per_s_per_device: Array


def new_prompt_tokens(w: InferenceWorkload) -> float:
    """Prompt tokens prefill computes (the rest hit the prefix cache)."""
    return max(1.0, w.prompt_tokens * (1.0 - w.kv_cache_hit_frac))


def evaluate_prefill(d: Deployment, prompts_per_group: ArrayLike | None = None) -> PrefillEval:
    """Prefill of the uncached prompt tokens (`kv_cache_hit_frac` of the prompt comes from a prefix
    cache). None: the prefill operating point (prefill_point). Throughput counts every prompt
    token served; with pp > 1 the stages pipeline pp batches."""
    m, w, lay = d.model, d.workload, d.layout
    new = new_prompt_tokens(w)
    if prompts_per_group is None:
        prompts_per_group = prefill_point(d).batch
    n = np.asarray(prompts_per_group, dtype=float)
    step = run_pass(
        m, lay, w, d.cluster, n / micro_batches(lay), new, float(w.prompt_tokens), prefill=True
    )
    ttft = step.step_s / np.minimum(1.0, n)
    rate = (
        n * lay.attn_dp * w.prompt_tokens * lay.pp / np.where(step.step_s > 0, step.step_s, np.nan)
    )
    return PrefillEval(n, step, ttft, np.nan_to_num(rate / lay.instance_devices, nan=np.inf))


def prefill_point(d: Deployment) -> OperatingPoint:
    """The prefill batch: `tokens_per_device` worth of prompts, else the most prompts per group
    whose TTFT meets the target (default 2 s), up to 16K tokens per device."""
    lay, w = d.layout, d.workload
    new = new_prompt_tokens(w)
    most = max(1.0, MAX_PREFILL_TOKENS_PER_DEVICE * lay.tp / new)
    grid = batch_grid(1.0, float(np.floor(most)), STEPS_PER_OCTAVE)
    ev = evaluate_prefill(d, grid)
    if w.tokens_per_device is not None:
        batch = w.tokens_per_device * lay.tp / new
        why = f"tokens_per_device = {w.tokens_per_device}"
        return fixed("prefill", batch, why, grid, ev.ttft_s, ev.input_tokens_per_s_per_device)
    target = w.ttft_target_s or DEFAULT_TTFT_TARGET_S
    limit = f"{MAX_PREFILL_TOKENS_PER_DEVICE:,} tokens per device"
    return choose(
        "prefill",
        grid,
        ev.ttft_s,
        ev.input_tokens_per_s_per_device,
        target,
        w.ttft_target_s is not None,
        limit,
    )
