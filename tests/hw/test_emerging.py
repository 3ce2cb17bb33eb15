"""Emerging device classes: parameters load from the catalog, estimates follow hand arithmetic."""

import math

import pytest

from scalelab.core import catalog
from scalelab.core.errors import CatalogError, ConfigError
from scalelab.core.specs import ModelSpec
from scalelab.hw.emerging import (
    CimParams,
    FpgaParams,
    PhotonicParams,
    SystolicParams,
    emerging_params,
    estimate_inference,
    precision_bits_needed,
)
from scalelab.hw.opgraph import build_graph, experts_touched

EMERGING = {
    "cim-analog": CimParams,
    "photonic-compute": PhotonicParams,
    "fpga-brainwave": FpgaParams,
    "systolic-tpu-v4": SystolicParams,
}
TINY = ModelSpec(
    num_layers=2,
    hidden_size=8,
    num_attention_heads=2,
    num_key_value_heads=2,
    ffn_hidden_size=16,
    vocab_size=10,
)


@pytest.mark.parametrize("dev", sorted(EMERGING))
def test_params_load_with_si_units(dev):
    p = emerging_params(catalog.load_accelerator(dev))
    assert isinstance(p, EMERGING[dev])


def test_cim_units_converted_once():
    p = emerging_params(catalog.load_accelerator("cim-analog"))
    assert p.adc_j_per_conversion == pytest.approx(2e-12)
    assert p.energy_j_per_mac == pytest.approx(0.2e-12)
    assert p.stage_latency_s == pytest.approx(6.4e-6)
    assert p.chip_link_bytes_per_s == pytest.approx(2e9)


def test_catalog_numbers_are_self_consistent():
    cim = catalog.load_accelerator("cim-analog")
    p = emerging_params(cim)
    # Mythic M1076: 76 tiles, 25 TOPS -> one full 1024 x 1024 tile pass in ~6.4 us
    tile_s = 1024 * 1024 / (cim.peak_int8_flops_per_s / 2 / cim.num_compute_units)
    assert p.stage_latency_s == pytest.approx(tile_s, rel=0.02)
    s = emerging_params(catalog.load_accelerator("systolic-tpu-v4"))
    assert s.num_arrays * s.array_rows * s.array_cols * 2 * s.clock_hz == pytest.approx(
        275e12, rel=0.01
    )


def test_override_and_missing_table():
    p = emerging_params(catalog.load_accelerator("cim-analog"), weights_per_chip=1e9)
    assert p.weights_per_chip == 1e9
    with pytest.raises(CatalogError, match="no \\[emerging\\]"):
        emerging_params(catalog.load_accelerator("h200-sxm-141gb"))
    with pytest.raises(ConfigError, match="unknown field"):
        emerging_params(catalog.load_accelerator("cim-analog"), bogus=1.0)


def test_tiny_graph_by_hand():
    g = build_graph(TINY, "decode", batch_size=1, context_tokens=4, weight_dtype="bf16")
    # attention: qkv 8*4*6 + out 2*4*8 = 256 params; core 2*heads*ctx*(4+4) = 128 FLOPs
    # ffn (SwiGLU) 3*8*16 = 384; head 2*10*8 = 160 FLOPs
    assert g.total_flops == 2 * (2 * 256 + 128 + 2 * 384) + 160
    assert g.total_weight_bytes == 2 * (80 + 2 * (256 + 384) + 80)
    attn = next(o for o in g.ops if o.kind == "attention")
    assert (
        attn.kv_bytes == 4 * 2 * 2 * 4 * 2
    )  # ctx x (K+V) x kv heads x head dim x 2 bytes, one layer
    assert [o.name for o in g.ops] == ["embed", "L0.attn", "L0.ffn", "L1.attn", "L1.ffn", "head"]


def test_experts_touched():
    assert experts_touched(8, 2, 1) == pytest.approx(2)
    assert experts_touched(8, 2, 2) == pytest.approx(8 * (1 - 0.75**2))
    assert experts_touched(256, 8, 10_000) == pytest.approx(256)


def test_cim_chips_hold_deepseek_v3():
    m = catalog.load_model("deepseek-v3")
    e = estimate_inference(m, catalog.load_accelerator("cim-analog"))
    # DeepSeek-V3: 671B parameters (TR Sec 1) / 80M weights per M1076 -> ~8,388 chips
    assert 8370 <= e.chips_to_hold_weights <= 8400
    assert e.energy_breakdown_j["static"] >= 0.5 * e.num_chips * e.step_time_s * 0.999
    assert any("KV-cache" in f for f in e.flags)


def test_fewer_cim_chips_must_rewrite_weights():
    m = catalog.load_model("llama-3.1-8b")
    acc = catalog.load_accelerator("cim-analog")
    full = estimate_inference(m, acc)
    half = estimate_inference(m, acc, num_chips=full.chips_to_hold_weights // 2)
    assert full.time_breakdown_s["weight_rewrite"] == 0
    assert (
        half.time_breakdown_s["weight_rewrite"] > 1.0
    )  # flash rewrite at 1 MB/s: seconds per token
    assert any("rewritten" in f for f in half.flags)


def test_photonic_precision_flag():
    acc = catalog.load_accelerator("photonic-compute")
    assert precision_bits_needed("fp16") == 11 and precision_bits_needed("bf16") == 8
    assert any(
        "11 significand bits" in f for f in estimate_inference(TINY, acc, weight_dtype="fp16").flags
    )
    assert not any(
        "significand" in f for f in estimate_inference(TINY, acc, weight_dtype="bf16").flags
    )


def test_systolic_batch_one_uses_one_row_in_128():
    m = catalog.load_model("llama-3.1-8b")
    acc = catalog.load_accelerator("systolic-tpu-v4")
    e = estimate_inference(m, acc, batch_size=1, context_tokens=1)
    g = build_graph(m, "decode", 1, 1, weight_dtype="bf16")
    expected = g.total_flops / (275.25e12 / 128 * e.num_chips)  # utilization 1/128 at one token
    assert e.time_breakdown_s["compute"] == pytest.approx(expected, rel=1e-3)
    full = estimate_inference(m, acc, batch_size=128, context_tokens=1)
    assert "100.0%" in full.flags[0]


def test_gpu_roofline_is_memory_bound_at_batch_one():
    m = catalog.load_model("llama-3.1-8b")
    e = estimate_inference(
        m, catalog.load_accelerator("h200-sxm-141gb"), weight_dtype="bf16", context_tokens=1
    )
    # 8.03B params (Meta) less the 128,256 x 4,096 embedding (one row is looked up), 2 bytes each,
    # read once at 0.89 x 4.8 TB/s
    assert e.step_time_s == pytest.approx((8.03e9 - 128256 * 4096) * 2 / (0.89 * 4.8e12), rel=0.02)
    assert e.num_chips == 1 and math.isclose(e.tokens_per_s, 1 / e.step_time_s)
