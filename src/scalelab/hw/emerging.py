"""Emerging accelerators as device classes: analog compute-in-memory, photonic compute, FPGA
dataflow, systolic arrays. Class parameters live in the catalog's `[emerging]` table (every number
sourced or marked an assumption) and can be overridden; `estimate_inference` gives time and energy
per token for a ModelSpec on any class (GPUs and CPUs get a roofline baseline)."""

from __future__ import annotations

from typing import Any, Literal

from scalelab.core.errors import CatalogError
from scalelab.core.io import build
from scalelab.core.specs import AcceleratorSpec, ModelSpec
from scalelab.hw.emerging_models import (
    TokenEstimate,
    estimate_photonic,
    estimate_roofline,
    estimate_systolic,
    estimate_weight_stationary,
)
from scalelab.hw.emerging_params import (
    CimParams,
    EmergingParams,
    FpgaParams,
    PhotonicParams,
    SystolicParams,
    _Params,
)
from scalelab.hw.work import StepWork, step_work

__all__ = [
    "CimParams",
    "FpgaParams",
    "PhotonicParams",
    "SystolicParams",
    "TokenEstimate",
    "StepWork",
    "emerging_params",
    "estimate_inference",
    "precision_bits_needed",
    "step_work",
]


_CLASSES: dict[str, type[_Params]] = {
    "cim": CimParams,
    "photonic": PhotonicParams,
    "fpga": FpgaParams,
    "systolic": SystolicParams,
}
# Source units the generic loader (core.units) does not know; converted here, once.
_LOCAL_UNITS = (
    ("_pj_per_conversion", "_j_per_conversion", 1e-12),
    ("_pj_per_byte", "_j_per_byte", 1e-12),
    ("_ghz", "_hz", 1e9),
)


def _to_si(table: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        for token, si, factor in _LOCAL_UNITS:
            if key.endswith(token) and isinstance(value, int | float):
                key, value = key[: -len(token)] + si, value * factor
        if (
            isinstance(value, float)
            and value.is_integer()
            and key.endswith(("_bits", "_rows", "_cols", "arrays"))
        ):
            value = int(value)
        out[key] = value
    return out


def emerging_params(acc: AcceleratorSpec, **overrides: Any) -> EmergingParams:
    """The class parameters of `acc` (its `[emerging]` table), with SI-named overrides."""
    table = _to_si(dict(acc.emerging))
    table.update(overrides)
    cls = _CLASSES.get(str(table.get("device_class", "")))
    if cls is None:
        raise CatalogError(
            f"accelerator '{acc.id}' has no [emerging] table with a known device_class "
            f"({', '.join(_CLASSES)})"
        )
    return build(cls, table, f"accelerator '{acc.id}' [emerging]")  # type: ignore[return-value]


# Significand bits (with the implicit bit) each dtype needs to be represented faithfully.
_SIGNIFICAND_BITS = {
    "fp32": 24,
    "tf32": 11,
    "fp16": 11,
    "bf16": 8,
    "fp8": 4,
    "int8": 8,
    "int4": 4,
    "fp4": 2,
}


def precision_bits_needed(dtype: str) -> int:
    """Bits of analog precision a value of `dtype` needs (its significand, incl. implicit bit)."""
    return _SIGNIFICAND_BITS[dtype]


def estimate_inference(
    model: ModelSpec,
    acc: AcceleratorSpec,
    phase: Literal["decode", "prefill"] = "decode",
    batch_size: int = 1,
    context_tokens: int = 4096,
    prompt_tokens: int = 1024,
    weight_dtype: str | None = None,
    num_chips: int | None = None,
    **overrides: Any,
) -> TokenEstimate:
    """Time and energy per token of one inference step of `model` on `num_chips` devices of `acc`
    (default: as many as needed to hold the weights). Emerging classes use their own model;
    other devices (GPU/CPU/TPU without [emerging]) a roofline with the calibrated power model."""
    params = emerging_params(acc, **overrides) if acc.emerging else None
    if weight_dtype is None:
        weight_dtype = (
            "int8"
            if isinstance(params, CimParams | FpgaParams)
            else ("fp8" if acc.peak_fp8_flops_per_s else "bf16")
        )
    work = step_work(model, phase, batch_size, context_tokens, prompt_tokens, weight_dtype)
    if isinstance(params, CimParams | FpgaParams):
        return estimate_weight_stationary(work, acc, params, num_chips)
    if isinstance(params, PhotonicParams):
        return estimate_photonic(work, acc, params, num_chips, precision_bits_needed(weight_dtype))
    if isinstance(params, SystolicParams):
        return estimate_systolic(work, acc, params, num_chips)
    return estimate_roofline(work, acc, num_chips)
