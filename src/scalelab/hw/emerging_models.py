"""Time and energy of one inference step on each device class. Weight-stationary classes (analog
CIM, FPGA) hold every weight on-chip, so the chip count follows from capacity; their step is a
latency chain through the layers plus KV-cache and attention work the arrays cannot do. Photonic,
systolic and GPU/CPU devices stream weights from memory: a roofline over the step's work."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalelab.core.specs import AcceleratorSpec
from scalelab.hw.devices import DEFAULT_EFFICIENCY
from scalelab.hw.emerging_params import CimParams, FpgaParams, PhotonicParams, SystolicParams
from scalelab.hw.work import StepWork
from scalelab.perf.energy import power_model, step_energy_j

USABLE_MEMORY_FRAC = 0.9  # ASSUMPTION: 10% of device memory kept for KV cache, activations, runtime


@dataclass(frozen=True)
class TokenEstimate:
    """One step's time and energy on `num_chips` devices; per-token figures divide by tokens."""

    device: str
    device_class: str
    phase: str
    tokens_per_step: int
    num_chips: int
    chips_to_hold_weights: int
    step_time_s: float
    time_breakdown_s: dict[str, float]
    energy_breakdown_j: dict[str, float]  # per step
    flags: tuple[str, ...] = ()

    @property
    def energy_j_per_step(self) -> float:
        return sum(self.energy_breakdown_j.values())

    @property
    def joules_per_token(self) -> float:
        return self.energy_j_per_step / self.tokens_per_step

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_per_step / self.step_time_s

    @property
    def avg_power_w(self) -> float:
        return self.energy_j_per_step / self.step_time_s


def _dynamic_j_per_flop(acc: AcceleratorSpec, dtype: str) -> float:
    """Digital work: the dynamic budget (TDP - idle) spent at the dtype's peak rate."""
    return (acc.tdp_w - power_model(acc).idle_w) / acc.peak_flops_per_s(dtype)


@dataclass(frozen=True)
class _Stationary:
    """Sizing of a weight-stationary deployment."""

    cap_params: float  # weights one chip holds
    bytes_per_weight: float
    needed: int
    n: int
    attn_chips: float  # chips holding one layer's attention weights
    missing_bytes: float  # weights not resident but touched this step: rewritten every step
    rewrite_bytes_per_s: float  # per chip


def _size(
    w: StepWork, acc: AcceleratorSpec, p: CimParams | FpgaParams, num_chips: int | None
) -> _Stationary:
    bpw = p.weight_bits / 8
    cap = p.weights_per_chip if isinstance(p, CimParams) else p.onchip_bytes / bpw
    needed = math.ceil(w.total_params / cap)
    n = num_chips or needed
    read_frac = w.weight_bytes_read / w.weight_bytes  # share of all weights this step touches
    missing = read_frac * w.total_params * bpw * (1 - min(1.0, n / needed))
    rate = p.reprogram_bytes_per_s if isinstance(p, CimParams) else acc.hbm_bandwidth_bytes_per_s
    return _Stationary(
        cap, bpw, needed, n, max(1.0, w.attention_params_per_layer / cap), missing, rate
    )


def _stationary_times(
    w: StepWork, acc: AcceleratorSpec, p: CimParams | FpgaParams, z: _Stationary
) -> dict[str, float]:
    peak = acc.peak_flops_per_s("int8" if isinstance(p, CimParams) else "fp8")
    hops = w.num_layers + 1
    return {
        "matrix_stages": w.sequential_stages * p.stage_latency_s
        + hops * max(0, w.tokens - 1) * 2 * z.cap_params / peak,
        "chip_hops": hops * (p.chip_link_latency_s + w.act_bytes_per_hop / p.chip_link_bytes_per_s),
        "kv_cache": w.kv_bytes_read / (acc.hbm_bandwidth_bytes_per_s * z.attn_chips),
        "attention_digital": w.core_flops / (acc.peak_flops_per_s("bf16") * z.attn_chips),
        "weight_rewrite": z.missing_bytes / (z.rewrite_bytes_per_s * z.n),
    }


def _stationary_energy(
    w: StepWork, acc: AcceleratorSpec, p: CimParams | FpgaParams, z: _Stationary, step_s: float
) -> dict[str, float]:
    e_mac = p.energy_j_per_mac if isinstance(p, CimParams) else 2 * _dynamic_j_per_flop(acc, "fp8")
    conversions = (
        w.macs / p.array_rows * p.adc_j_per_conversion
        + w.macs / p.array_cols * p.dac_j_per_conversion
        if isinstance(p, CimParams)
        else 0.0
    )
    moved = (w.num_layers + 1) * w.act_bytes_per_hop + w.kv_bytes_read + z.missing_bytes
    return {
        "static": power_model(acc).idle_w * z.n * step_s,
        "mac": w.macs * e_mac,
        "adc_dac": conversions,
        "attention_digital": w.core_flops * _dynamic_j_per_flop(acc, "bf16"),
        "links": moved * 8 * p.chip_link_j_per_bit,
    }


def estimate_weight_stationary(
    w: StepWork, acc: AcceleratorSpec, p: CimParams | FpgaParams, num_chips: int | None
) -> TokenEstimate:
    """CIM / FPGA: chips = weights / on-chip capacity. Critical path per step: every dependent
    matrix stage pays `stage_latency_s`, each extra token one full-chip pass (2 * capacity / peak);
    activations hop chip to chip each layer; KV cache comes over the chip's memory path and its
    attention runs in digital units of the chips holding each layer's attention weights."""
    z = _size(w, acc, p, num_chips)
    t = _stationary_times(w, acc, p, z)
    step = sum(t.values())
    flags = []
    if z.n < z.needed:
        flags.append(
            f"{z.n} chips hold {z.n / z.needed:.0%} of the weights ({z.needed} needed): the rest is "
            f"rewritten every step at {z.rewrite_bytes_per_s / 1e9:.3g} GB/s per chip"
        )
    if t["kv_cache"] + t["attention_digital"] > t["matrix_stages"]:
        flags.append(
            "KV-cache traffic and attention outside the arrays dominate the step: "
            "weights are in memory, but the memory wall moved to the KV cache"
        )
    if isinstance(p, CimParams) and p.precision_bits < p.weight_bits:
        flags.append(
            f"{p.weight_bits}-bit weights exceed the {p.precision_bits}-bit analog precision"
        )
    return TokenEstimate(
        acc.id,
        p.device_class,
        w.phase,
        w.tokens,
        z.n,
        z.needed,
        step,
        t,
        _stationary_energy(w, acc, p, z, step),
        tuple(flags),
    )


def _chips_for_memory(w: StepWork, acc: AcceleratorSpec) -> int:
    return max(1, math.ceil(w.weight_bytes / (acc.hbm_bytes * USABLE_MEMORY_FRAC)))


def estimate_photonic(
    w: StepWork, acc: AcceleratorSpec, p: PhotonicParams, num_chips: int | None, bits_needed: int
) -> TokenEstimate:
    """Photonic tensor core: roofline of optical MACs against weight/KV streaming from card memory;
    energy = optical MACs + one DAC per input and ADC per output per array pass + memory + static
    (idle includes the always-on laser). Chip-to-chip activation traffic is not modeled."""
    needed = _chips_for_memory(w, acc)
    n = num_chips or needed
    macs = w.macs + w.core_flops / 2
    t = {
        "compute": 2 * macs / (acc.peak_flops_per_s("bf16") * n),
        "memory": (w.weight_bytes_read + w.kv_bytes_read) / (acc.hbm_bandwidth_bytes_per_s * n),
    }
    step = max(t.values())
    e = {
        "static": power_model(acc).idle_w * n * step,
        "mac": macs * p.energy_j_per_mac,
        "adc_dac": macs / p.array_rows * p.adc_j_per_conversion
        + macs / p.array_cols * p.dac_j_per_conversion,
        "memory": (w.weight_bytes_read + w.kv_bytes_read) * p.memory_j_per_byte,
    }
    flags = ["chip-to-chip activation traffic not modeled"]
    if bits_needed > p.precision_bits:
        flags.append(
            f"{w.weight_dtype} needs {bits_needed} significand bits; the analog core gives "
            f"~{p.precision_bits}: accuracy relies on block scaling or needs a narrower dtype"
        )
    if n < needed:
        flags.append(f"{n} chips cannot hold the weights ({needed} needed)")
    return TokenEstimate(
        acc.id, p.device_class, w.phase, w.tokens, n, needed, step, t, e, tuple(flags)
    )


def _roofline(
    w: StepWork,
    acc: AcceleratorSpec,
    n: int,
    compute_flops_per_s: float,
    dtype: str,
    device_class: str,
    needed: int,
    flags: list[str],
) -> TokenEstimate:
    _, mem_eff = DEFAULT_EFFICIENCY.get(acc.kind, (0.78, 0.89))
    flops, nbytes = w.matmul_flops + w.core_flops, w.weight_bytes_read + w.kv_bytes_read
    t = {
        "compute": flops / (compute_flops_per_s * n),
        "memory": nbytes / (acc.hbm_bandwidth_bytes_per_s * mem_eff * n),
    }
    step = max(t.values())
    total = step_energy_j(acc, step, flops / n, nbytes / n, dtype, n)
    static = power_model(acc).idle_w * n * step
    e = {"static": static, "dynamic": total - static}
    if n < needed:
        flags.append(f"{n} devices cannot hold the weights ({needed} needed)")
    return TokenEstimate(
        acc.id, device_class, w.phase, w.tokens, n, needed, step, t, e, tuple(flags)
    )


def estimate_systolic(
    w: StepWork, acc: AcceleratorSpec, p: SystolicParams, num_chips: int | None
) -> TokenEstimate:
    """Weight-stationary systolic arrays: loading a rows x cols weight tile takes `rows` cycles, so
    fewer than `rows` tokens per tile leave the array idle: utilization = min(1, tokens / rows)
    (Jouppi et al. ISCA'17 Sec 2: weights are staged into the matrix unit through a FIFO)."""
    needed = _chips_for_memory(w, acc)
    n = num_chips or needed
    array_peak = p.num_arrays * p.array_rows * p.array_cols * 2 * p.clock_hz
    util = min(1.0, w.tokens / p.array_rows)
    flags = [
        f"array utilization {util:.1%} at {w.tokens} tokens per step (weight tiles of {p.array_rows} rows)"
    ]
    if abs(array_peak / acc.peak_bf16_flops_per_s - 1) > 0.05:
        flags.append(
            f"arrays give {array_peak / 1e12:.0f} TFLOP/s but the catalog peak is "
            f"{acc.peak_bf16_flops_per_s / 1e12:.0f}"
        )
    return _roofline(w, acc, n, array_peak * util, "bf16", "systolic", needed, flags)


def estimate_roofline(w: StepWork, acc: AcceleratorSpec, num_chips: int | None) -> TokenEstimate:
    """GPU/CPU baseline: ideal n-way split of the step's FLOPs and bytes at the measured fractions of
    peak (hw.devices.DEFAULT_EFFICIENCY); power from perf.energy. Communication is not modeled,
    so this is a lower bound on time."""
    needed = _chips_for_memory(w, acc)
    n = num_chips or needed
    comp_eff, _ = DEFAULT_EFFICIENCY.get(acc.kind, (0.78, 0.89))
    dtype = w.weight_dtype if w.weight_dtype in ("fp8", "bf16", "fp16", "int8") else "bf16"
    rate = acc.peak_flops_per_s(dtype) * comp_eff
    return _roofline(
        w, acc, n, rate, dtype, acc.kind, needed, ["ideal split, communication not modeled"]
    )
