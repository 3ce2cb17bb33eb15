"""Prefill/decode disaggregation: two pools, each with its own cluster slice and plan, joined by a KV
handoff (DistServe, Zhong et al. OSDI'24; DeepSeek-V3 TR Sec 3.4: prefill EP32, decode EP320).

The system's output rate is the smaller of the decode pool's rate and the prefill pool's input rate
divided by prompt/output tokens; money and energy count the devices of both pools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec, ParallelPlan
from scalelab.perf.serve.predict import (
    InferenceResult,
    make_deployment,
    predict_inference,
    prefill_facility_w,
)
from scalelab.perf.serve.step import kv_transfer_s


@dataclass(frozen=True)
class DisaggResult:
    """Both pools' predictions and the combined serving metrics (SI units). As DeepSeek and SGLang
    report a disaggregated deployment, input rates are the prefill pool's own per device (and node)
    and output rates the decode pool's own; `system_*` rates divide what the whole system delivers
    by the devices of both pools (what the money pays for)."""

    prefill: InferenceResult  # phase 'prefill' on the prefill pool
    decode: InferenceResult  # phase 'decode' on the decode pool
    prefill_devices: int
    decode_devices: int
    kv_transfer_s: float  # one request's KV from a prefill device to the decode pool
    ttft_s: float  # prefill + KV handoff (conservative: the decode pool can start only after it)
    tpot_s: float
    tokens_per_s_per_request: float
    output_tokens_per_s: float  # system output rate, min(decode pool, prefill pool / ratio)
    output_tokens_per_s_per_device: float  # decode pool, per device of that pool
    input_tokens_per_s_per_device: float  # prefill pool, per device of that pool
    output_tokens_per_s_per_node: float
    input_tokens_per_s_per_node: float
    system_output_tokens_per_s_per_device: float  # system output over both pools' devices
    usd_per_million_output_tokens: float
    joules_per_token: float | None  # facility energy of both pools per output token
    max_concurrency: int  # decode pool
    balanced_prefill_device_frac: float  # prefill share of devices at which both pools keep pace
    ep_comm_s_per_layer_step: float | None
    devices_per_node: int
    limited_by: str  # "decode pool" or "prefill pool"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (`predict infer --json`, docs/json.md)."""
        from scalelab.perf.serve.result_dict import disagg_dict

        return disagg_dict(self)

    def metrics(self) -> dict[str, float]:
        shared = (k for k in InferenceResult.METRIC_KEYS if hasattr(self, k))
        keys = (*shared, "kv_transfer_s", "system_output_tokens_per_s_per_device")
        return {k: float(v) for k in keys if (v := getattr(self, k)) is not None}


def _pool_power_w(r: InferenceResult, phase_rate: float | None, j_per_token: float | None) -> float:
    """Facility watts per device of a pool: J/token x tokens/s per device (0 when unknown)."""
    return (j_per_token or 0.0) * (phase_rate or 0.0)


def predict_disaggregated(
    m: ModelSpec,
    prefill_cluster: ClusterSpec,
    prefill_plan: ParallelPlan,
    decode_cluster: ClusterSpec,
    decode_plan: ParallelPlan,
    w: InferenceWorkload,
) -> DisaggResult:
    """Predict a disaggregated deployment; each pool's devices are its cluster's `num_devices`."""
    pre = predict_inference(m, prefill_cluster, prefill_plan, replace_phase(w, "prefill"))
    dec = predict_inference(m, decode_cluster, decode_plan, replace_phase(w, "decode"))
    assert pre.input_tokens_per_s_per_device is not None
    assert dec.output_tokens_per_s_per_device is not None
    assert pre.ttft_s is not None and dec.tpot_s is not None
    d_pre = make_deployment(m, prefill_cluster, prefill_plan, w)
    handoff = kv_transfer_s(m, d_pre.layout, prefill_cluster, w.prompt_tokens, w.kv_dtype or "bf16")
    in_dev, out_dev = pre.input_tokens_per_s_per_device, dec.output_tokens_per_s_per_device
    n_pre = pre.layout.devices_used
    n_dec = dec.layout.devices_used
    ratio = w.prompt_tokens / w.output_tokens
    dec_total, pre_total = out_dev * n_dec, in_dev * n_pre / ratio
    out_total = min(dec_total, pre_total)
    devices = prefill_cluster.num_devices + decode_cluster.num_devices
    per_node = decode_cluster.devices_per_node
    usd_per_s = (
        prefill_cluster.accelerator.price_usd_per_hour * prefill_cluster.num_devices
        + decode_cluster.accelerator.price_usd_per_hour * decode_cluster.num_devices
    ) / 3600.0
    # Both pools draw their steady power whatever the system rate (the faster one idles busy).
    dec_w = _pool_power_w(dec, out_dev, dec.joules_per_token)
    pre_w = prefill_facility_w(m, prefill_cluster, prefill_plan, w, pre)
    joules = (dec_w * n_dec + pre_w * n_pre) / out_total if dec.joules_per_token else None
    balanced = (ratio / in_dev) / (ratio / in_dev + 1.0 / out_dev)  # device-seconds per token
    return DisaggResult(
        pre,
        dec,
        prefill_cluster.num_devices,
        decode_cluster.num_devices,
        handoff,
        pre.ttft_s + handoff,
        dec.tpot_s,
        1.0 / dec.tpot_s,
        out_total,
        out_dev,
        in_dev,
        out_dev * per_node,
        in_dev * prefill_cluster.devices_per_node,
        out_total / devices,
        usd_per_s * 1e6 / out_total,
        joules,
        dec.max_concurrency,
        balanced,
        dec.ep_comm_s_per_layer_step,
        per_node,
        "decode pool" if dec_total <= pre_total else "prefill pool",
    )


def replace_phase(w: InferenceWorkload, phase: str) -> InferenceWorkload:
    """The workload restricted to one phase."""
    return w.model_copy(update={"phase": phase})


def split_cluster(cluster: ClusterSpec, prefill_devices: int) -> tuple[ClusterSpec, ClusterSpec]:
    """Two pools of one cluster: the first `prefill_devices` devices and the rest (same hardware)."""
    if not 0 < prefill_devices < cluster.num_devices:
        raise ConfigError(
            f"prefill_devices must be between 1 and {cluster.num_devices - 1}, got {prefill_devices}"
        )
    pre = replace_cluster_devices(cluster, prefill_devices, "prefill")
    dec = replace_cluster_devices(cluster, cluster.num_devices - prefill_devices, "decode")
    return pre, dec


def replace_cluster_devices(cluster: ClusterSpec, num_devices: int, tag: str) -> ClusterSpec:
    """`cluster` with `num_devices` devices, same node size and network (a pool smaller than a node
    is a fraction of one)."""
    if num_devices > cluster.devices_per_node and num_devices % cluster.devices_per_node:
        raise ConfigError(
            f"a pool of {num_devices} devices is not a whole number of "
            f"{cluster.devices_per_node}-device nodes"
        )
    return cluster.model_copy(
        update={"num_devices": num_devices, "name": f"{cluster.name}:{tag}{num_devices}"}
    )
