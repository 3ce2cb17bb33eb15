"""Report section: the seed article's claims, each checked against what scalelab measured or modeled."""

from __future__ import annotations

from typing import Any

from scalelab.core import catalog
from scalelab.report.context import ReportContext
from scalelab.report.section import Section, Table
from scalelab.validate.runner import load_cases

SEED = "shared/seed: 'DeepSeek-V3 scalability dilemmas and new thinking on AI hardware' (2025)"


def _get(results: dict[str, dict[str, Any]], section: str, *keys: str) -> Any:
    value: Any = results.get(section, {})
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _gradient_row(results: dict[str, dict[str, Any]]) -> list[str]:
    flows = _get(results, "training_dynamics", "gradient_flow")
    if not flows:
        return [
            "gradient norm at layer 50 falls to 1/100",
            "not measured (the lab section did not run)",
            "-",
        ]
    parts = [f"{f['label']}: {f['first_to_last_ratio']:.2g}" for f in flows]
    plain = [f["first_to_last_ratio"] for f in flows if "residual" not in f["label"]]
    verdict = (
        "holds for some plain stacks, not all"
        if plain and min(plain) <= 1e-2 < max(plain)
        else "holds for plain stacks"
        if plain and max(plain) <= 1e-2
        else "does not hold as stated"
    )
    return [
        "gradient norm at layer 50 falls to 1/100 (first/last layer ratio)",
        "measured, 50 blocks: " + "; ".join(parts),
        verdict + "; residual + norm cures it",
    ]


def _comm_row(results: dict[str, dict[str, Any]]) -> list[str]:
    sweep = _get(results, "training", "exposed_comm_pct_by_cluster_size")
    if not sweep:
        return [
            "inter-node communication costs 30%+ at thousands of GPUs",
            "not modeled for this model",
            "-",
        ]
    sizes = sweep["num_devices"]
    overlap, plain = sweep["DualPipe + 20 comm SMs (overlap)"], sweep["1F1B, no overlap"]
    cells = [
        f"{int(n):,} GPUs: {o:.0f}% with DualPipe, {p:.0f}% without"
        for n, o, p in zip(sizes, overlap, plain, strict=True)
        if o == o
    ]
    return [
        "inter-node communication costs 30%+ at thousands of GPUs",
        "; ".join(cells),
        "holds without overlap, not with DualPipe-style overlap",
    ]


def _power_row(results: dict[str, dict[str, Any]]) -> list[str]:
    case = next(c for c in load_cases() if c["id"] == "h200-power")["expect"]
    gemm_w = _get(results, "hardware_basics", "h200_power", "bf16_gemm_w")
    measured = (
        f"H200 measured: {case['bf16_gemm_w']:.0f} W under bf16 GEMM, {case['idle_w']:.0f} W idle "
        "(validation case h200-power)"
    )
    model = f"; power model {gemm_w:,.0f} W" if gemm_w else ""
    return [
        "a GPU draws about 300 W",
        measured + model,
        f"understated {case['bf16_gemm_w'] / 300:.1f}x for a current GPU under load",
    ]


def _tpu_row() -> list[str]:
    tpu = catalog.load_accelerator("tpu-v4").peak_bf16_flops_per_s
    a100 = catalog.load_accelerator("a100-sxm4-80gb").peak_bf16_flops_per_s
    h100 = catalog.load_accelerator("h100-sxm5-80gb").peak_bf16_flops_per_s
    return [
        "TPU v4's 275 TFLOPS is 3x a GPU",
        f"bf16 dense: TPU v4 {tpu / 1e12:.0f}, A100 {a100 / 1e12:.0f}, H100 {h100 / 1e12:.0f} TFLOP/s",
        f"false: {tpu / a100:.2f}x an A100, {tpu / h100:.2f}x an H100",
    ]


def _optical_row() -> list[str]:
    link = catalog.load_raw("interconnects", "photonic-link")["nic_gbit_per_s"]
    nvl5 = catalog.load_raw("interconnects", "nvlink5")["bandwidth_gb_per_s_per_direction"] * 8
    ndr = catalog.load_raw("interconnects", "ib-ndr")["nic_gbit_per_s"]
    return [
        "optical links reach 10 Tbps, 100x copper",
        f"photonic engine {link / 1e3:.1f} Tbit/s per direction; NVLink 5 (copper) "
        f"{nvl5 / 1e3:.1f} Tbit/s per GPU per direction; one NDR port {ndr} Gbit/s",
        f"order of magnitude right against one NIC ({link / ndr:.0f}x), wrong against copper "
        f"NVLink ({link / nvl5:.1f}x)",
    ]


def _cim_row(results: dict[str, dict[str, Any]]) -> list[str]:
    jpt = _get(results, "hardware_basics", "decode_joules_per_token") or {}
    cim = next((v for k, v in jpt.items() if "cim" in k), None)
    gpu = next((v for k, v in jpt.items() if "h200" in k), None)
    if cim is None or gpu is None:
        return ["compute-in-memory cuts power 10x", "not modeled", "-"]
    return [
        "compute-in-memory cuts power 10x",
        f"DeepSeek-V3 decode: CIM {cim:.3g} J/token vs H200 {gpu:.3g} J/token",
        "depends on model size: a 671B model's weights do not fit on-chip, so they are sharded over "
        f"thousands of chips and CIM costs {cim / gpu:.0f}x more energy per token",
    ]


def _bill_row(results: dict[str, dict[str, Any]]) -> list[str]:
    total = _get(results, "training", "total_gpu_hours")
    if total is None:
        return ["DeepSeek-V3 took 2.788M H800 GPU hours", "not modeled for this model", "-"]
    return [
        "DeepSeek-V3 took 2.788M H800 GPU hours (DeepSeek-V3 TR Table 1)",
        f"reconstructed from first principles: {total / 1e6:.2f}M GPU hours",
        f"consistent within {abs(total / 2.788e6 - 1) * 100:.0f}%",
    ]


def build(ctx: ReportContext) -> Section:
    """One row per claim: what was claimed, what we measured or modeled, the verdict."""
    r = ctx.results
    rows = [
        _gradient_row(r),
        _comm_row(r),
        _power_row(r),
        _tpu_row(),
        _optical_row(),
        _cim_row(r),
        _bill_row(r),
    ]
    return Section(
        "Claims checked",
        summary=f"The article that started scalelab ({SEED}) makes quantitative claims. Each is "
        "checked here against a measurement on this machine, a validated model prediction or a "
        "datasheet; the sections above hold the details.",
        tables=[Table("Seed-article claims", ["claim", "scalelab's number", "verdict"], rows)],
        data={"claims": rows},
    )
