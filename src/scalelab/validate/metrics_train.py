"""`kind: train` metrics: step time, MFU (causal and non-causal), FLOP/s per device, throughput, GPU hours."""

from __future__ import annotations

from typing import Any

from scalelab.core.scenario import load_scenario
from scalelab.core.specs import TrainWorkload
from scalelab.perf.train.predict import predict_train

SECONDS_PER_DAY = 86400.0


def compute(case: dict[str, Any]) -> dict[str, float]:
    """Every train metric for the case's model, hardware, plan and workload."""
    tables: dict[str, Any] = {
        k: case[k] for k in ("model", "hardware", "parallel", "workload") if k in case
    }
    sc = load_scenario(tables, "train", f"case {case.get('id')}")
    pred = predict_train(sc)
    assert isinstance(sc.workload, TrainWorkload)
    n = sc.cluster.num_devices
    gpu_hours_per_token = n / pred.tokens_per_s / 3600.0
    out = {
        "step_time_s": pred.step_time_s,
        "mfu": pred.mfu,
        "mfu_causal": pred.mfu_causal,
        "mfu_noncausal": pred.mfu_noncausal,
        "hfu": pred.hfu,
        "tflops_per_device": pred.model_flops_per_s_per_device / 1e12,
        "hardware_tflops_per_device": pred.hardware_flops_per_s_per_device / 1e12,
        "tokens_per_s": pred.tokens_per_s,
        "tokens_per_day": pred.tokens_per_s * SECONDS_PER_DAY,
        "gpu_hours_per_trillion_tokens": gpu_hours_per_token * 1e12,
        "pipeline_bubble_s": pred.pipeline_bubble_s,
        "optimizer_s": pred.optimizer_s,
        "memory_per_device_bytes": pred.memory_per_device_bytes,
        "fits_in_memory": float(pred.fits_in_memory),
    }
    if sc.workload.train_tokens is not None:
        out["pretrain_gpu_hours"] = gpu_hours_per_token * sc.workload.train_tokens
        out["cost_usd"] = pred.cost_usd or 0.0
    out.update({f"breakdown_{k}_s": v for k, v in pred.breakdown_s.items()})
    return out
