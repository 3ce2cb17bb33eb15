"""`kind: model` metrics: parameter counts, FLOPs per token, KV cache bytes per token."""

from __future__ import annotations

from typing import Any

from scalelab.core.scenario import resolve_model
from scalelab.perf.model.flops import train_flops_per_token
from scalelab.perf.model.footprint import kv_cache_bytes_per_token
from scalelab.perf.model.params import count_params


def compute(case: dict[str, Any]) -> dict[str, float]:
    """Every model metric we can produce for the case's model and workload."""
    m = resolve_model(case["model"], f"case {case.get('id')}: model")
    wl = case.get("workload", {})
    counts = count_params(m)
    out = {
        "total_params": float(counts.total),
        "active_params_per_token": float(counts.active_per_token),
        "kv_cache_bytes_per_token": kv_cache_bytes_per_token(m, wl.get("dtype", "bf16")),
    }
    if "seq_len" in wl:
        causal = bool(wl.get("causal_attention", True))
        out["train_flops_per_token"] = train_flops_per_token(m, int(wl["seq_len"]), causal)
    return out
