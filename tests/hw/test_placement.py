"""HEFT placement: the fastest device takes everything, slow links are avoided, memory and pins hold."""

from pathlib import Path

import pytest

from scalelab.core import catalog
from scalelab.core.errors import ConfigError, InfeasiblePlan
from scalelab.core.specs import ModelSpec
from scalelab.hw.devices import load_machine, machine_from_mapping
from scalelab.hw.opgraph import build_graph
from scalelab.hw.placement import schedule

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "devices-gpu-cpu.toml"
MOE = ModelSpec(
    num_layers=4,
    hidden_size=64,
    num_attention_heads=4,
    ffn_hidden_size=128,
    vocab_size=100,
    num_routed_experts=8,
    num_shared_experts=1,
    num_experts_per_token=2,
    moe_ffn_hidden_size=32,
    num_dense_layers=1,
)
SLOW = {
    "base": "h200-sxm-141gb",
    "id": "slow",
    "peak_fp32_tflops": 6.69,
    "peak_bf16_tflops": 98.94,
    "peak_fp8_tflops": 197.9,
    "hbm_bandwidth_tb_per_s": 0.48,
}


def _machine(second, bandwidth_gb_per_s=64.0, latency_us=1.0, **extra):
    return machine_from_mapping(
        {
            "devices": [
                {"name": "a", "accelerator": "h200-sxm-141gb"},
                {"name": "b", "accelerator": second},
            ],
            "links": [
                {
                    "between": ["a", "b"],
                    "bandwidth_gb_per_s": bandwidth_gb_per_s,
                    "latency_us": latency_us,
                }
            ],
            **extra,
        }
    )


def test_strictly_faster_device_takes_everything():
    graph = build_graph(MOE, "decode", batch_size=4, context_tokens=64)
    p = schedule(graph, _machine(SLOW))
    assert set(p.assignment.values()) == {"a"}
    assert p.num_transfers == 0 and p.transfer_s == 0
    assert p.utilization_frac["b"] == 0
    assert p.makespan_s == pytest.approx(next(b.makespan_s for b in p.baselines if b.device == "a"))


def test_fast_link_splits_parallel_branches_slow_link_does_not():
    graph = build_graph(MOE, "prefill", batch_size=8, prompt_tokens=512)
    fast = schedule(graph, _machine("h200-sxm-141gb", bandwidth_gb_per_s=1e6, latency_us=0.0))
    assert fast.num_transfers > 0  # identical twin: shared and routed experts overlap
    slow = schedule(graph, _machine("h200-sxm-141gb", bandwidth_gb_per_s=1e-3))
    assert slow.num_transfers == 0 and len(set(slow.assignment.values())) == 1
    assert fast.makespan_s < slow.makespan_s


def test_memory_limit_spills_and_pins_hold():
    graph = build_graph(MOE, "decode", batch_size=1, context_tokens=64)
    small = {"base": "h200-sxm-141gb", "id": "tiny-mem", "hbm_gb": graph.total_weight_bytes / 2e9}
    m = machine_from_mapping(
        {
            "devices": [{"name": "a", "accelerator": small}, {"name": "b", "accelerator": SLOW}],
            "links": [{"between": ["a", "b"], "bandwidth_gb_per_s": 64}],
            "memory_reserve_frac": 0.0,
        }
    )
    p = schedule(graph, m)
    assert p.memory_used_bytes["a"] <= graph.total_weight_bytes / 2 + 1
    assert set(p.assignment.values()) == {"a", "b"}
    pinned = schedule(graph, _machine(SLOW, pins={"routed_experts": "b"}))
    assert all(pinned.assignment[o.name] == "b" for o in graph.ops if o.kind == "routed_experts")


def test_infeasible_when_nothing_fits():
    graph = build_graph(MOE, "decode")
    tiny = {"base": "h200-sxm-141gb", "id": "t", "hbm_gb": 1e-9}
    m = machine_from_mapping({"devices": [{"name": "a", "accelerator": tiny}]})
    with pytest.raises(InfeasiblePlan, match="fits on no"):
        schedule(graph, m)


def test_bad_devices_files():
    with pytest.raises(ConfigError, match="unknown device 'c'"):
        machine_from_mapping(
            {
                "devices": [{"name": "a", "accelerator": "h200-sxm-141gb"}],
                "links": [{"between": ["a", "c"], "bandwidth_gb_per_s": 1}],
            }
        )
    with pytest.raises(ConfigError, match="pin"):
        _machine(SLOW, pins={"experts": "a"})
    with pytest.raises(ConfigError, match="unknown field"):
        machine_from_mapping(
            {"devices": [{"name": "a", "accelerator": "h200-sxm-141gb", "speed": 2}]}
        )


def test_deepseek_v3_experts_on_cpu_example():
    m = catalog.load_model("deepseek-v3")
    graph = build_graph(m, "decode", 1, 4096, weight_dtype="fp8")
    p = schedule(graph, load_machine(EXAMPLE))
    kinds = {o.name: o.kind for o in graph.ops}
    assert all(p.assignment[n] == "cpu0" for n, k in kinds.items() if k == "routed_experts")
    assert all(p.assignment[n] == "gpu0" for n, k in kinds.items() if k == "attention")
    gpu_alone, cpu_alone = (next(b for b in p.baselines if b.device == d) for d in ("gpu0", "cpu0"))
    assert not gpu_alone.fits and cpu_alone.fits  # 671 GB of fp8 weights vs 141 GB HBM
    assert p.makespan_s < cpu_alone.makespan_s
    # per token the CPU streams 58 layers x 8 experts x 44M fp8 weights at 0.75 x 460.8 GB/s ~ 59 ms
    assert p.busy_s["cpu0"] == pytest.approx(58 * 8 * 3 * 7168 * 2048 / (0.75 * 460.8e9), rel=0.02)
