"""Serving results as JSON-ready dicts: the `predict infer --json` results and the Python API's
`.to_dict()` (docs/json.md documents the shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalelab.perf.serve.layout import describe_layout

if TYPE_CHECKING:
    from scalelab.perf.serve.disagg import DisaggResult
    from scalelab.perf.serve.operating import OperatingPoint
    from scalelab.perf.serve.predict import InferenceResult


def operating_point_dict(op: OperatingPoint | None) -> dict[str, Any] | None:
    """The batch a phase runs at, why, and its throughput-latency curve."""
    if op is None:
        return None
    return {
        "batch": op.batch,
        "source": op.source,
        "reason": op.reason,
        "target_s": op.target_s,
        "curve": [
            {"batch": float(b), "latency_s": float(lat), "tokens_per_s_per_device": float(r)}
            for b, lat, r in zip(
                op.curve_batch, op.curve_latency_s, op.curve_tokens_per_s_per_device, strict=True
            )
        ],
    }


def collocated_dict(r: InferenceResult) -> dict[str, Any]:
    """One deployment (or one pool of a disaggregated one)."""
    return {
        "metrics": r.metrics(),
        "layout": describe_layout(r.layout),
        "decode_bound": r.decode_bound,
        "fits_in_memory": r.fits_in_memory,
        "concurrency_per_replica": r.concurrency_per_replica,
        "replicas": r.layout.replicas,
        "devices_per_replica": r.layout.instance_devices,
        "idle_devices": r.layout.idle_devices,
        "devices_per_node": r.devices_per_node,
        "decode_overlap": r.layout.dual_overlap,
        "prefill_overlap": r.prefill_overlap,
        "decode_point": operating_point_dict(r.decode_point),
        "prefill_point": operating_point_dict(r.prefill_point),
    }


def inference_dict(r: InferenceResult) -> dict[str, Any]:
    return {"mode": "collocated", **collocated_dict(r)}


def disagg_dict(r: DisaggResult) -> dict[str, Any]:
    return {
        "mode": "disaggregated",
        "metrics": r.metrics(),
        "limited_by": r.limited_by,
        "devices_per_node": r.devices_per_node,
        "prefill": {"devices": r.prefill_devices, **collocated_dict(r.prefill)},
        "decode": {"devices": r.decode_devices, **collocated_dict(r.decode)},
    }
