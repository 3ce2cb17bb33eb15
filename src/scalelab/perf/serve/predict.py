"""Serving model: TTFT, TPOT, throughput per node, the largest concurrency the KV cache allows, and
dollars (and joules) per token, for one deployment (model, cluster, ParallelPlan, InferenceWorkload).

Decode and prefill run the same operator model (perf/serve/step.py); the layout of a replica is
in perf/serve/layout.py, KV capacity in perf/serve/kv.py, EP dispatch/combine in
perf/serve/ep.py. `batch_size` is the number of concurrent sequences per model replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.errors import ConfigError, InfeasiblePlan
from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec, ParallelPlan
from scalelab.perf.energy import run_energy
from scalelab.perf.model.flops import inference_flops_per_token
from scalelab.perf.serve.kv import KvCapacity, kv_capacity
from scalelab.perf.serve.layout import Layout, make_layout, weight_bytes_per_device
from scalelab.perf.serve.ops import gemm_dtype
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


def evaluate_decode(d: Deployment, sequences: ArrayLike | None = None) -> DecodeEval:
    """One decode step for each entry of `sequences` (per replica). None: from the workload
    (`decode_tokens_per_device` per micro-batch, else `batch_size`, else the KV-cache limit)."""
    m, w, lay = d.model, d.workload, d.layout
    q_len = 1 + mtp_modules(m, w)
    n_mb = 2 if lay.dual_overlap else 1
    per_seq_slots = lay.attn_dp * lay.pp * n_mb
    if sequences is None:
        if w.decode_tokens_per_device is not None:
            sequences = w.decode_tokens_per_device * lay.tp / q_len * per_seq_slots
        elif w.batch_size is not None:
            sequences = w.batch_size
        elif d.kv.max_concurrency_per_instance < 1:
            raise InfeasiblePlan(
                f"the weights ({d.kv.weight_bytes_per_device / 2**30:.1f} GiB per device) leave no "
                f"room for a KV cache on {d.cluster.accelerator.id}"
            )
        else:
            sequences = d.kv.max_concurrency_per_instance
    seqs = np.asarray(sequences, dtype=float)
    step = run_pass(
        m,
        lay,
        w,
        d.cluster,
        seqs / per_seq_slots,
        q_len,
        decode_context(w),
        prefill=False,
        mtp_modules=mtp_modules(m, w),
    )
    return DecodeEval(seqs, step, tokens_per_step(m, w))


@dataclass(frozen=True)
class PrefillEval:
    """One prefill pass: `prompts_per_group` prompts per attention-DP group (fractional = chunked)."""

    prompts_per_group: Array
    step: StepTimes
    ttft_s: Array
    input_tokens_per_s_per_device: Array


def evaluate_prefill(d: Deployment, prompts_per_group: ArrayLike | None = None) -> PrefillEval:
    """Prefill of the uncached prompt tokens (`kv_cache_hit_frac` of the prompt comes from a prefix
    cache). Default batch: `tokens_per_device` worth of prompts, else one prompt per attention group.
    Throughput counts every prompt token served; with pp > 1 the stages pipeline pp batches."""
    m, w, lay = d.model, d.workload, d.layout
    new = max(1.0, w.prompt_tokens * (1.0 - w.kv_cache_hit_frac))
    if prompts_per_group is None:
        prompts_per_group = w.tokens_per_device * lay.tp / new if w.tokens_per_device else 1.0
    n = np.asarray(prompts_per_group, dtype=float)
    n_mb = 2 if lay.dual_overlap else 1
    step = run_pass(m, lay, w, d.cluster, n / n_mb, new, float(w.prompt_tokens), prefill=True)
    ttft = step.step_s / np.minimum(1.0, n)
    rate = (
        n * lay.attn_dp * w.prompt_tokens * lay.pp / np.where(step.step_s > 0, step.step_s, np.nan)
    )
    return PrefillEval(n, step, ttft, np.nan_to_num(rate / lay.instance_devices, nan=np.inf))


@dataclass(frozen=True)
class InferenceResult:
    """Serving metrics of one deployment (SI units); None where the workload's phase skips it."""

    ttft_s: float | None
    tpot_s: float | None
    tokens_per_s_per_request: float | None
    output_tokens_per_s_per_node: float | None
    input_tokens_per_s_per_node: float | None
    max_concurrency: int
    usd_per_million_output_tokens: float | None
    ep_comm_s_per_layer_step: float | None
    joules_per_token: float | None
    concurrency_per_replica: float
    tokens_per_step: float
    decode_step_s: float | None
    decode_bound: str | None
    prefill_share_frac: float
    fits_in_memory: bool
    layout: Layout
    kv: KvCapacity
    decode: StepTimes | None = field(repr=False, default=None)
    prefill: StepTimes | None = field(repr=False, default=None)

    METRIC_KEYS = (
        "ttft_s",
        "tpot_s",
        "tokens_per_s_per_request",
        "output_tokens_per_s_per_node",
        "input_tokens_per_s_per_node",
        "max_concurrency",
        "usd_per_million_output_tokens",
        "ep_comm_s_per_layer_step",
        "joules_per_token",
    )

    def metrics(self) -> dict[str, float]:
        """The validation/CLI metrics that this prediction defines (finite values only)."""
        out = {}
        for key in self.METRIC_KEYS:
            value = getattr(self, key)
            if value is not None and math.isfinite(float(value)):
                out[key] = float(value)
        return out


def _scalar(x: Array) -> float:
    return float(np.asarray(x).reshape(-1)[0])


def decode_bound(d: Deployment, ev: DecodeEval) -> str:
    """'communication' when exposed communication is over half the step, else the larger roofline side
    of the step's weights + KV traffic vs its FLOPs."""
    step, acc = _scalar(ev.step.step_s), d.cluster.accelerator
    if step <= 0 or _scalar(ev.step.exposed_comm_s) > 0.5 * step:
        return "communication"
    flops, nbytes = decode_work_per_device(d, ev)
    dt = gemm_dtype(d.workload.dtype, acc)
    return (
        "memory"
        if nbytes / acc.hbm_bandwidth_bytes_per_s >= flops / acc.peak_flops_per_s(dt)
        else "compute"
    )


def decode_work_per_device(d: Deployment, ev: DecodeEval) -> tuple[float, float]:
    """(FLOPs, HBM bytes) of one device in one decode step: forward FLOPs of the verified tokens; weights
    streamed once per micro-batch plus the KV cache of its sequences read once."""
    m, lay, w = d.model, d.layout, d.workload
    seqs = _scalar(ev.sequences)
    q_len = 1 + mtp_modules(m, w)
    flops = inference_flops_per_token(m, decode_context(w)) * seqs * q_len / lay.instance_devices
    kv_read = (
        seqs
        / lay.attn_dp
        * decode_context(w)
        * d.kv.kv_bytes_per_sequence_per_device
        / (w.prompt_tokens + w.output_tokens)
    )
    n_mb = 2 if lay.dual_overlap else 1
    return flops, n_mb * d.kv.weight_bytes_per_device + kv_read


def joules_per_output_token(d: Deployment, ev: DecodeEval) -> float | None:
    """Facility energy per output token in steady decode (perf/energy.run_energy: device power from the
    step's FLOP/s and HBM bytes/s, node overhead, network bits, PUE)."""
    step = _scalar(ev.step.step_s)
    if step <= 0:
        return None
    flops, nbytes = decode_work_per_device(d, ev)
    n = d.cluster.num_devices
    tokens = _scalar(ev.sequences) * ev.tokens_per_step * n / d.layout.instance_devices
    try:
        rep = run_energy(
            d.cluster,
            step,
            flops,
            nbytes,
            gemm_dtype(d.workload.dtype, d.cluster.accelerator),
            tokens=tokens,
            network_bytes=_scalar(ev.step.ep_scale_out_bytes) * n,
        )
    except ConfigError:
        return None
    return rep.joules_per_token


def collocated_rates(
    w: InferenceWorkload, decode_rate: float, prefill_rate: float
) -> tuple[float, float, float]:
    """(output, input tokens/s, prefill time share) of a device that spends a share f of its time on
    prefill at `prefill_rate` input tokens/s and the rest decoding at `decode_rate` output tokens/s, with
    f * P / ((1 - f) * D) = prompt / output. An instantaneous prefill (P infinite) takes no time."""
    ratio = w.prompt_tokens / w.output_tokens
    if not math.isfinite(prefill_rate):
        return decode_rate, ratio * decode_rate, 0.0
    share = ratio * decode_rate / (prefill_rate + ratio * decode_rate)
    return (1.0 - share) * decode_rate, share * prefill_rate, share


def predict_inference(
    m: ModelSpec, cluster: ClusterSpec, plan: ParallelPlan, w: InferenceWorkload
) -> InferenceResult:
    """Predict one collocated deployment. Throughput with phase 'both' time-slices each device between
    prefill and decode in the workload's prompt:output ratio; TPOT is that of a decode step (prefill
    interruptions are not added, as with chunked prefill or a separate prefill pool)."""
    d = make_deployment(m, cluster, plan, w)
    lay = d.layout
    dec = evaluate_decode(d) if w.phase in ("decode", "both") else None
    pre = evaluate_prefill(d) if w.phase in ("prefill", "both") else None
    out_dev = _scalar(dec.output_tokens_per_s_per_device(lay.instance_devices)) if dec else 0.0
    in_dev = _scalar(pre.input_tokens_per_s_per_device) if pre else 0.0
    share = 0.0
    if dec and pre:
        out_dev, in_dev, share = collocated_rates(w, out_dev, in_dev)
    per_node = cluster.devices_per_node
    price = cluster.accelerator.price_usd_per_hour * cluster.num_devices / lay.devices_used
    seqs = _scalar(dec.sequences) if dec else 0.0
    return InferenceResult(
        ttft_s=_scalar(pre.ttft_s) if pre else None,
        tpot_s=_scalar(dec.tpot_s) if dec else None,
        tokens_per_s_per_request=1.0 / _scalar(dec.tpot_s)
        if dec and _scalar(dec.tpot_s) > 0
        else None,
        output_tokens_per_s_per_node=out_dev * per_node if dec else None,
        input_tokens_per_s_per_node=in_dev * per_node if pre else None,
        max_concurrency=d.kv.max_concurrency_per_instance * lay.replicas,
        usd_per_million_output_tokens=price * 1e6 / (3600.0 * out_dev) if out_dev > 0 else None,
        ep_comm_s_per_layer_step=_scalar(dec.step.ep_comm_s_per_layer_step)
        if dec and lay.ep > 1
        else None,
        joules_per_token=joules_per_output_token(d, dec) if dec else None,
        concurrency_per_replica=seqs,
        tokens_per_step=tokens_per_step(m, w),
        decode_step_s=_scalar(dec.step.step_s) if dec else None,
        decode_bound=decode_bound(d, dec) if dec else None,
        prefill_share_frac=share,
        fits_in_memory=d.kv.fits_weights and seqs <= d.kv.max_concurrency_per_instance,
        layout=lay,
        kv=d.kv,
        decode=dec.step if dec else None,
        prefill=pre.step if pre else None,
    )
