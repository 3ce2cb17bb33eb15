"""Evidence for the seed's hardware claims (d-i, k): GPU power, TPU v4, compute-in-memory, optical
links, photonic compute, FPGA and photonic switching. Each is a measurement in the validation
cases, a catalog entry with its source, or the emerging-device model (hw/emerging.py) run for
DeepSeek-V3 decode at batch 1 with a 4,096-token context, as the report's Hardware section does."""

from __future__ import annotations

from typing import Any

from scalelab.core import catalog
from scalelab.core.scenario import cluster_from_string
from scalelab.hw.emerging import estimate_inference
from scalelab.perf.energy import run_energy
from scalelab.report.claims_evidence import Evidence, Source
from scalelab.report.claims_rule import Part
from scalelab.validate.runner import load_cases

GPU = "h200-sxm-141gb"
EMERGING = (GPU, "cim-analog", "fpga-brainwave", "photonic-compute")
CONTEXT = 4096  # as report/sections/hardware_basics.py
YEAR_H = 365.25 * 24
DECODE_CMD = "scalelab report deepseek-v3 (Hardware section: emerging-device decode table)"


def _power_case() -> dict[str, float]:
    case = next(c for c in load_cases() if c["id"] == "h200-power")
    return {k: float(v) for k, v in case["expect"].items()}


def _decode(src: Source) -> dict[str, dict[str, float]]:
    """{device: step_time_s, tokens_per_s, joules_per_token, num_chips} for DeepSeek-V3 decode."""
    have = src.section("hardware_basics").get("decode_estimates")
    if have and all(d in have for d in EMERGING):
        return dict(have)
    if "decode" not in src.cache:
        src.cache["decode"] = {d: estimate_decode(src, d) for d in EMERGING}
    result: dict[str, dict[str, float]] = src.cache["decode"]
    return result


def estimate_decode(src: Source, device: str) -> dict[str, float]:
    e = estimate_inference(src.model, catalog.load_accelerator(device), "decode", 1, CONTEXT)
    return {
        "step_time_s": e.step_time_s,
        "tokens_per_s": e.tokens_per_s,
        "joules_per_token": e.joules_per_token,
        "num_chips": float(e.num_chips),
    }


def _facility_kwh_per_year(num_gpus: int, flops_per_s: float) -> float:
    """A year of GEMM-bound work on `num_gpus` H200 with node overhead and PUE (perf/energy.py)."""
    cluster = cluster_from_string(f"{GPU}x{num_gpus}")
    year_s = YEAR_H * 3600
    return run_energy(cluster, year_s, flops_per_s * num_gpus * year_s, 0.0).energy_kwh


def gpu_power(_src: Source) -> Evidence:
    m = _power_case()
    year_kwh = 1000 * m["bf16_gemm_w"] * YEAR_H / 1e3
    facility = _facility_kwh_per_year(1000, m["bf16_gemm_flops_per_s"])
    return Evidence(
        f"one H200 measured at {m['bf16_gemm_w']:,.0f} W under a bf16 GEMM ({m['idle_w']:,.0f} W idle); "
        f"1,000 such GPUs busy for a year: {year_kwh / 1e6:,.1f} million kWh for the boards, "
        f"{facility / 1e6:,.1f} million with hosts and cooling (power model, PUE)",
        (
            Part("board power under load (W)", 300.0, "about", m["bf16_gemm_w"]),
            Part("energy of 1,000 GPUs in a year (kWh)", 1e6, "at least", year_kwh),
        ),
        "scalelab validate (case h200-power)",
        "measured (nvidia-smi, one H200 SXM)",
    )


def tpu_v4(_src: Source) -> Evidence:
    tpu = catalog.load_accelerator("tpu-v4").peak_bf16_flops_per_s
    a100 = catalog.load_accelerator("a100-sxm4-80gb").peak_bf16_flops_per_s
    h100 = catalog.load_accelerator("h100-sxm5-80gb").peak_bf16_flops_per_s
    return Evidence(
        f"dense bf16 peaks: TPU v4 {tpu / 1e12:.0f}, A100 {a100 / 1e12:.0f} (its contemporary), "
        f"H100 {h100 / 1e12:.0f} TFLOP/s: TPU v4 is {tpu / a100:.2f}× an A100, {tpu / h100:.2f}× an H100",
        (
            Part("TPU v4 peak (TFLOP/s)", 275.0, "about", tpu / 1e12),
            Part("TPU v4 / A100 peak", 3.0, "about", tpu / a100, gain=True),
        ),
        "scalelab hardware list",
        "datasheet",
    )


def compute_in_memory(src: Source) -> Evidence:
    d = _decode(src)
    gpu, cim = d[GPU], d["cim-analog"]
    power, speed = (
        gpu["joules_per_token"] / cim["joules_per_token"],
        gpu["step_time_s"] / cim["step_time_s"],
    )
    return Evidence(
        f"DeepSeek-V3 decode, batch 1: {cim['num_chips']:,.0f} CIM chips (to hold the weights) spend "
        f"{cim['joules_per_token']:,.0f} J and {cim['step_time_s'] * 1e3:,.0f} ms per token; H200: "
        f"{gpu['joules_per_token']:,.1f} J, {gpu['step_time_s'] * 1e3:,.2f} ms (image classification "
        "is not modeled)",
        (
            Part("energy per token, GPU / CIM", 10.0, "about", power, gain=True),
            Part("latency per token, GPU / CIM", 5.0, "about", speed, gain=True),
        ),
        DECODE_CMD,
        "modeled (catalog cim-analog, Mythic M1076-like)",
    )  # fmt: skip


def optical_link(_src: Source) -> Evidence:
    link = catalog.load_raw("interconnects", "photonic-link")["nic_gbit_per_s"]
    nvl5 = catalog.load_raw("interconnects", "nvlink5")["bandwidth_gb_per_s_per_direction"] * 8
    ndr = catalog.load_raw("interconnects", "ib-ndr")["nic_gbit_per_s"]
    return Evidence(
        f"photonic engine {link / 1e3:.1f} Tbit/s per direction; copper NVLink 5 {nvl5 / 1e3:.1f} "
        f"Tbit/s per GPU per direction ({link / nvl5:.2f}×); one 400G NDR port: {link / ndr:.0f}×",
        (
            Part("optical bandwidth (Tbit/s)", 10.0, "about", link / 1e3),
            Part("optical / copper bandwidth per GPU", 100.0, "about", link / nvl5, gain=True),
        ),
        "scalelab hardware show photonic-link; scalelab hardware show nvlink5",
        "datasheet",
    )


def photonic_compute(src: Source) -> Evidence:
    m, acc = _power_case(), catalog.load_accelerator("photonic-compute")
    chip = (acc.peak_bf16_flops_per_s / acc.tdp_w) / (m["bf16_gemm_flops_per_s"] / m["bf16_gemm_w"])
    d = _decode(src)
    decode = d[GPU]["joules_per_token"] / d["photonic-compute"]["joules_per_token"]
    return Evidence(
        f"peak FLOP/J of the photonic chip is {chip:.2f}× the H200's measured bf16 FLOP/J; "
        f"DeepSeek-V3 decode energy per token, H200 / photonic: {decode:.2f}×",
        (
            Part("FLOP per joule, photonic / H200", 3.0, "about", chip, gain=True),
            Part("decode energy per token, H200 / photonic", 3.0, "about", decode, gain=True),
        ),
        "scalelab hardware show photonic-compute; " + DECODE_CMD,
        "datasheet + measured H200; modeled decode",
    )


def fpga(src: Source) -> Evidence:
    d = _decode(src)
    gpu, f = d[GPU], d["fpga-brainwave"]
    return Evidence(
        f"DeepSeek-V3 decode, batch 1: {f['step_time_s'] * 1e3:,.2f} ms per token on "
        f"{f['num_chips']:,.0f} FPGAs, {f['tokens_per_s']:,.0f} tokens/s vs {gpu['tokens_per_s']:,.0f} on "
        f"H200 ({f['tokens_per_s'] / gpu['tokens_per_s']:.2f}×)",
        (
            Part("latency per token (ms)", 1.0, "at most", f["step_time_s"] * 1e3),
            Part("throughput, FPGA / GPU", 5.0, "about", f["tokens_per_s"] / gpu["tokens_per_s"], gain=True),
        ),
        DECODE_CMD,
        "modeled (catalog fpga-brainwave, Brainwave-like)",
    )  # fmt: skip


NEAR_ZERO_FRAC = 0.01  # "zero latency" read generously: under 1% of an electrical path's


def photonic_switching(_src: Source) -> Evidence:
    raw: dict[str, Any] = catalog.load_raw("interconnects", "photonic-link")
    optical, electrical = (
        raw["latency_us"],
        catalog.load_raw("interconnects", "ib-ndr")["latency_us"],
    )
    return Evidence(
        f"end-to-end latency per collective step: photonic {optical:g} us vs InfiniBand NDR "
        f"{electrical:g} us ({optical / electrical:.2f}×): NIC and protocol stacks dominate, optics "
        "add ~5 ns per metre of fibre",
        (Part("latency, photonic / electrical", NEAR_ZERO_FRAC, "at most", optical / electrical),),
        "scalelab hardware show photonic-link",
        "assumption in the catalog (stack-bound latency), stated there",
    )
