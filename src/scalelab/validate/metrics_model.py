"""`kind: model` metrics: parameter counts, FLOPs per token, KV cache bytes per token."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from scalelab.core.errors import ConfigError, located
from scalelab.core.io import build
from scalelab.core.scenario import resolve_model, table
from scalelab.core.specs import MAX_SEQ_TOKENS, Dtype, Spec
from scalelab.perf.model.flops import train_flops_per_token
from scalelab.perf.model.footprint import kv_cache_bytes_per_token
from scalelab.perf.model.params import count_params


class ModelCaseWorkload(Spec):
    """A model case's workload: the dtype of the KV cache and the sequence length of the FLOPs."""

    dtype: Dtype = "bf16"
    seq_len: int | None = Field(default=None, gt=0, le=MAX_SEQ_TOKENS)
    causal_attention: bool = True


def compute(case: dict[str, Any]) -> dict[str, float]:
    """Every model metric we can produce for the case's model and workload."""
    where = f"case {case.get('id')}"
    if "model" not in case:
        raise ConfigError(f"{where}: a model case needs a model")
    with located(f"{where}: model"):
        m = resolve_model(case["model"], f"{where}: model")
    wl = build(
        ModelCaseWorkload,
        table(case.get("workload", {}), f"{where}: workload"),
        f"{where}: workload",
    )
    counts = count_params(m)
    out = {
        "total_params": float(counts.total),
        "active_params_per_token": float(counts.active_per_token),
        "kv_cache_bytes_per_token": kv_cache_bytes_per_token(m, wl.dtype),
    }
    if wl.seq_len is not None:
        out["train_flops_per_token"] = train_flops_per_token(m, wl.seq_len, wl.causal_attention)
    return out
