"""Serving model: TTFT, TPOT, throughput per device (and per node beside it), the largest concurrency
the KV cache allows, and dollars and joules per token, for one deployment (model, cluster,
ParallelPlan, InferenceWorkload).

Decode and prefill run the same operator model (perf/serve/step.py); the layout of a replica is
in perf/serve/layout.py, KV capacity in perf/serve/kv.py, EP dispatch/combine in
perf/serve/ep.py, batches and operating points in perf/serve/evaluate.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec, ParallelPlan
from scalelab.perf.energy import energy_arrays
from scalelab.perf.model.flops import inference_flops_per_token
from scalelab.perf.serve.evaluate import (
    DecodeEval,
    Deployment,
    PrefillEval,
    decode_context,
    decode_point,
    evaluate_decode,
    evaluate_prefill,
    make_deployment,
    mtp_modules,
    prefill_point,
    tokens_per_step,
    with_overlap,
)
from scalelab.perf.serve.kv import KvCapacity
from scalelab.perf.serve.layout import Layout
from scalelab.perf.serve.operating import OperatingPoint
from scalelab.perf.serve.ops import gemm_dtype
from scalelab.perf.serve.step import StepTimes

__all__ = [
    "DecodeEval",
    "Deployment",
    "InferenceResult",
    "PrefillEval",
    "collocated_rates",
    "decode_context",
    "evaluate_decode",
    "evaluate_prefill",
    "make_deployment",
    "predict_inference",
    "tokens_per_step",
]


@dataclass(frozen=True)
class InferenceResult:
    """Serving metrics of one deployment (SI units); None where the workload's phase skips it.
    Rates per device are the primary figures; per node = per device x devices_per_node."""

    ttft_s: float | None
    tpot_s: float | None
    tokens_per_s_per_request: float | None
    output_tokens_per_s_per_device: float | None
    input_tokens_per_s_per_device: float | None
    output_tokens_per_s_per_node: float | None
    input_tokens_per_s_per_node: float | None
    output_tokens_per_s: float | None  # every replica on the cluster
    max_concurrency: int
    usd_per_million_output_tokens: float | None
    ep_comm_s_per_layer_step: float | None
    # Energy per output token in steady state (decode, plus the prefill share when collocated):
    joules_per_token: float | None  # facility: boards, node overhead, network, PUE
    board_joules_per_token: float | None  # accelerator boards only (what nvidia-smi counts)
    board_w: float | None  # average accelerator power in steady decode
    concurrency_per_replica: float
    tokens_per_step: float
    decode_step_s: float | None
    decode_bound: str | None
    prefill_share_frac: float
    fits_in_memory: bool
    devices_per_node: int
    layout: Layout
    kv: KvCapacity
    decode_point: OperatingPoint | None = field(repr=False, default=None)
    prefill_point: OperatingPoint | None = field(repr=False, default=None)
    prefill_overlap: bool = False
    device_kind: str = "gpu"
    decode: StepTimes | None = field(repr=False, default=None)
    prefill: StepTimes | None = field(repr=False, default=None)

    METRIC_KEYS = (
        "ttft_s",
        "tpot_s",
        "tokens_per_s_per_request",
        "output_tokens_per_s_per_device",
        "input_tokens_per_s_per_device",
        "output_tokens_per_s_per_node",
        "input_tokens_per_s_per_node",
        "output_tokens_per_s",
        "max_concurrency",
        "usd_per_million_output_tokens",
        "ep_comm_s_per_layer_step",
        "joules_per_token",
        "board_joules_per_token",
        "board_w",
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (`predict infer --json`, docs/json.md)."""
        from scalelab.perf.serve.result_dict import inference_dict

        return inference_dict(self)

    def metrics(self) -> dict[str, float]:
        """The validation/CLI metrics that this prediction defines (finite values only)."""
        out = {}
        for key in self.METRIC_KEYS:
            value = getattr(self, key)
            if value is not None and math.isfinite(float(value)):
                out[key] = float(value)
        return out


def _scalar(x: object) -> float:
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


@dataclass(frozen=True)
class PhasePower:
    """Average power of one device in a phase: its board, and its share of the facility (node
    overhead, network bits, PUE), from the calibrated power model (perf/energy.py)."""

    board_w: float
    facility_w: float


def phase_power(
    d: Deployment, flops_per_s: float, bytes_per_s: float, network_bytes_per_s: float = 0.0
) -> PhasePower:
    """Power of a device sustaining `flops_per_s` and HBM `bytes_per_s` (one second of every device
    of the cluster through perf/energy.energy_arrays, divided per device)."""
    c = d.cluster
    e = energy_arrays(
        c,
        1.0,
        flops_per_s,
        bytes_per_s,
        gemm_dtype(d.workload.dtype, c.accelerator),
        network_bytes_per_s * c.num_devices,
    )
    return PhasePower(float(e.avg_device_power_w), float(e.facility_energy_j) / c.num_devices)


def decode_power(d: Deployment, ev: DecodeEval) -> PhasePower | None:
    """Power in steady decode: the step's FLOPs and HBM bytes (weights per micro-batch, KV read)."""
    step = _scalar(ev.step.step_s)
    if step <= 0:
        return None
    flops, nbytes = decode_work_per_device(d, ev)
    return phase_power(d, flops / step, nbytes / step, _scalar(ev.step.ep_scale_out_bytes) / step)


def prefill_power(d: Deployment, pe: PrefillEval) -> PhasePower | None:
    """Power in steady prefill: FLOPs of the uncached prompt tokens (attention at half the prompt)
    and the weights streamed once per micro-batch and pass."""
    step = _scalar(pe.step.step_s)
    rate = _scalar(pe.input_tokens_per_s_per_device)
    if step <= 0 or not math.isfinite(rate):
        return None
    w = d.workload
    flops = (
        rate * (1.0 - w.kv_cache_hit_frac) * inference_flops_per_token(d.model, w.prompt_tokens / 2)
    )
    passes = (2 if d.layout.dual_overlap else 1) / step
    return phase_power(d, flops, d.kv.weight_bytes_per_device * passes)


def prefill_facility_w(
    m: ModelSpec, cluster: ClusterSpec, plan: ParallelPlan, w: InferenceWorkload, r: InferenceResult
) -> float:
    """Facility watts per device of a prefill pool at its operating point (0 when unknown)."""
    if r.prefill_point is None:
        return 0.0
    d = make_deployment(m, cluster, plan, w)
    if r.prefill_overlap != d.layout.dual_overlap:
        d = with_overlap(d, r.prefill_overlap)
    power = prefill_power(d, evaluate_prefill(d, r.prefill_point.batch))
    return power.facility_w if power else 0.0


def serving_energy(
    dec: PhasePower | None, pre: PhasePower | None, share: float, out_dev: float
) -> tuple[float | None, float | None, float | None]:
    """(board W, board J, facility J per output token) of a device that spends `share` of its time
    in prefill and the rest in decode, producing `out_dev` output tokens/s."""
    if dec is None or out_dev <= 0:
        return None, None, None
    pre = pre or dec
    board = (1.0 - share) * dec.board_w + share * pre.board_w
    facility = (1.0 - share) * dec.facility_w + share * pre.facility_w
    return dec.board_w, board / out_dev, facility / out_dev


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


def _with_best_overlap(
    d: Deployment, point: Callable[[Deployment], OperatingPoint]
) -> tuple[Deployment, OperatingPoint]:
    """Two-micro-batch overlap as an operator would set it when the plan leaves it unset: on if it
    gives more tokens/s per device at the phase's operating point (SGLang measured +27-35% in
    prefill and -27% to +35% in decode depending on batch, LMSYS blog 2025-05-05)."""
    if not d.layout.overlap_auto:
        return d, point(d)
    best: tuple[Deployment, OperatingPoint, float] | None = None
    for dual in (False, True):
        dd = with_overlap(d, dual)
        op = point(dd)
        rate = _rate_at(dd, op)
        if best is None or rate > best[2] * (1 + 1e-9):
            best = (dd, op, rate)
    assert best is not None
    return best[0], best[1]


def _rate_at(d: Deployment, op: OperatingPoint) -> float:
    if op.phase == "decode":
        ev = evaluate_decode(d, op.batch)
        return _scalar(ev.output_tokens_per_s_per_device(d.layout.instance_devices))
    return _scalar(evaluate_prefill(d, op.batch).input_tokens_per_s_per_device)


def predict_inference(
    m: ModelSpec, cluster: ClusterSpec, plan: ParallelPlan, w: InferenceWorkload
) -> InferenceResult:
    """Predict one collocated deployment. Throughput with phase 'both' time-slices each device between
    prefill and decode in the workload's prompt:output ratio; TPOT is that of a decode step (prefill
    interruptions are not added, as with chunked prefill or a separate prefill pool)."""
    d0 = make_deployment(m, cluster, plan, w)
    w = d0.workload
    dec = pre = None
    d_dec = d_pre = d0
    dec_op = pre_op = None
    if w.phase in ("decode", "both"):
        d_dec, dec_op = _with_best_overlap(d0, decode_point)
        dec = evaluate_decode(d_dec, dec_op.batch)
    if w.phase in ("prefill", "both"):
        d_pre, pre_op = _with_best_overlap(d0, prefill_point)
        pre = evaluate_prefill(d_pre, pre_op.batch)
    lay = d_dec.layout if dec else d_pre.layout
    out_dev = _scalar(dec.output_tokens_per_s_per_device(lay.instance_devices)) if dec else 0.0
    in_dev = _scalar(pre.input_tokens_per_s_per_device) if pre else 0.0
    share = 0.0
    if dec and pre:
        out_dev, in_dev, share = collocated_rates(w, out_dev, in_dev)
    per_node = cluster.devices_per_node
    used = lay.devices_used
    price = cluster.accelerator.price_usd_per_hour * cluster.num_devices / used  # idle paid too
    seqs = _scalar(dec.sequences) if dec else 0.0
    board_w, board_j, facility_j = serving_energy(
        decode_power(d_dec, dec) if dec else None,
        prefill_power(d_pre, pre) if pre else None,
        share,
        out_dev,
    )
    tpot = _scalar(dec.tpot_s) if dec else None
    return InferenceResult(
        ttft_s=_scalar(pre.ttft_s) if pre else None,
        tpot_s=tpot,
        tokens_per_s_per_request=1.0 / tpot if tpot else None,
        output_tokens_per_s_per_device=out_dev if dec else None,
        input_tokens_per_s_per_device=in_dev if pre else None,
        output_tokens_per_s_per_node=out_dev * per_node if dec else None,
        input_tokens_per_s_per_node=in_dev * per_node if pre else None,
        output_tokens_per_s=out_dev * used if dec else None,
        max_concurrency=d0.kv.max_concurrency_per_instance * lay.replicas,
        usd_per_million_output_tokens=price * 1e6 / (3600.0 * out_dev) if out_dev > 0 else None,
        ep_comm_s_per_layer_step=_scalar(dec.step.ep_comm_s_per_layer_step)
        if dec and lay.ep > 1
        else None,
        joules_per_token=facility_j,
        board_joules_per_token=board_j,
        board_w=board_w,
        concurrency_per_replica=seqs,
        tokens_per_step=tokens_per_step(m, w),
        decode_step_s=_scalar(dec.step.step_s) if dec else None,
        decode_bound=decode_bound(d_dec, dec) if dec else None,
        prefill_share_frac=share,
        fits_in_memory=d0.kv.fits_weights and seqs <= d0.kv.max_concurrency_per_instance,
        devices_per_node=per_node,
        layout=lay,
        kv=d0.kv,
        decode_point=dec_op,
        prefill_point=pre_op,
        prefill_overlap=d_pre.layout.dual_overlap,
        device_kind=cluster.accelerator.kind,
        decode=dec.step if dec else None,
        prefill=pre.step if pre else None,
    )
