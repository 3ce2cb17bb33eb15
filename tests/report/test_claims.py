"""The claims ledger turns evidence into verdicts with the one rule; the report's claims section is
the same ledger. Sections' results are injected so the verdicts below are computed by hand."""

import pytest

from scalelab.core.catalog import load_model
from scalelab.report.claims_evidence import Source
from scalelab.report.claims_ledger import CLAIMS, build_ledger, ledger_table
from scalelab.report.context import ReportContext
from scalelab.report.sections import claims

GIB = 2**30
FLOWS = [
    {"label": "plain tanh", "config": {"residual": False, "norm": "none"}, "first_to_last_ratio": 2.1e-11},
    {"label": "residual+pre-norm", "config": {"residual": True, "norm": "pre"}, "first_to_last_ratio": 5.9},
]  # fmt: skip
DECODE = {
    "h200-sxm-141gb": {"step_time_s": 1e-3, "tokens_per_s": 1000.0, "joules_per_token": 5.0, "num_chips": 6.0},
    # 5.0 / 0.4 = 12.5x less energy (d = 1.25), 1e-3 / 2e-4 = 5x faster (d = 1): holds
    "cim-analog": {"step_time_s": 2e-4, "tokens_per_s": 5000.0, "joules_per_token": 0.4, "num_chips": 9.0},
    # 0.8 ms (bound met), 5500 / 1000 = 5.5x the throughput (d = 1.1): holds
    "fpga-brainwave": {"step_time_s": 8e-4, "tokens_per_s": 5500.0, "joules_per_token": 9.0, "num_chips": 9.0},
    "photonic-compute": {"step_time_s": 1e-3, "tokens_per_s": 1000.0, "joules_per_token": 1.5, "num_chips": 9.0},
}  # fmt: skip
RESULTS = {
    "training_dynamics": {"gradient_flow": FLOWS},
    "training": {
        # 25% exposed at 2,048 GPUs with DualPipe: at least 30% claimed, d = 1.2: holds
        "exposed_comm_pct_by_cluster_size": {
            "num_devices": [1024.0, 2048.0],
            "DualPipe + 20 comm SMs (overlap)": [5.0, 25.0],
            "1F1B, no overlap": [39.0, 37.0],
        },
        "memory_per_device_bytes": 80 * GIB,
    },
    "hardware_basics": {"decode_estimates": DECODE},
    # 12% of the teacher's size (d = 1.2 against 10%), 3.3x and 2.4x faster (d = 1.1, 1.25): holds
    "compress": {
        "claim_j": {
            "variant": "student int8", "source": "live quick chain", "size_reduction_frac": 0.88,
            "speedup_b1_ratio": 3.3, "speedup_b32_ratio": 2.4, "accuracy_delta_points": -1.0,
        }
    },
}  # fmt: skip


def _verdicts(src):
    return {r.claim.id: r for r in build_ledger(src)}


def test_twelve_claims_a_to_l():
    assert [c.id for c in CLAIMS] == list("abcdefghijkl")
    assert all(c.stated and c.original for c in CLAIMS)


def test_verdicts_follow_the_injected_numbers():
    rows = _verdicts(Source(RESULTS, "deepseek-v3"))
    labels = {k: r.verdict.label for k, r in rows.items()}
    assert labels["b"] == "does not hold"  # 0.01 vs 2.1e-11: 8.7 orders of magnitude
    assert labels["c"] == "holds"
    assert labels["f"] == "holds" and labels["i"] == "holds"
    assert (
        labels["h"] == "does not hold"
    )  # the chip's datasheet FLOP/J is below the H200's measured
    assert labels["e"] == "does not hold"  # TPU v4 275 vs A100 312 bf16 TFLOP/s
    assert labels["d"] == "partly"  # 691.87 W measured vs 300 W: d = 2.3
    assert labels["l"] == "holds"
    assert "80.0 GiB" in rows["l"].evidence.measured
    # 100B x 20 tokens x 4 bytes = 8 TB: at least 1 TB and below 1 PB
    assert labels["a"] == "holds" and "8 TB of text" in rows["a"].evidence.measured
    assert labels["j"] == "holds" and "12.0% of the teacher's size" in rows["j"].evidence.measured


def test_model_specific_results_of_another_model_are_not_used():
    # The report ran for Llama: its training numbers say nothing about DeepSeek-V3's, so the ledger
    # evaluates DeepSeek-V3's plan itself (5.6% exposed with DualPipe: d = 5.4, partly).
    rows = _verdicts(Source(RESULTS, "llama-3.1-70b"))
    assert rows["c"].verdict.label == "partly"
    assert "25.0%" not in rows["c"].evidence.measured
    assert rows["b"].verdict.label == "does not hold"  # gradient flow is model-independent: reused


def test_report_section_is_the_ledger_table():
    ctx = ReportContext("deepseek-v3", load_model("deepseek-v3"), results=RESULTS)
    section = claims.build(ctx)
    assert section.tables == [ledger_table(build_ledger(Source(RESULTS, "deepseek-v3")))]
    assert len(section.data["claims"]) == 12
    assert sum(section.data["verdict_counts"].values()) == 12


def test_the_commands_named_for_claim_l_reproduce_its_numbers():
    from pathlib import Path

    from scalelab.core.scenario import load_scenario_file
    from scalelab.perf.train.predict import predict_train

    examples = Path(__file__).resolve().parents[2] / "examples"
    row = _verdicts(Source(RESULTS, "deepseek-v3"))["l"]
    assert "deepseek-v3-train-dp-only.toml" in row.evidence.command
    dp_only = predict_train(
        load_scenario_file(examples / "deepseek-v3-train-dp-only.toml", "train")
    )
    hybrid = predict_train(load_scenario_file(examples / "deepseek-v3-train.toml", "train"))
    ratio = row.evidence.parts[0].measured
    assert ratio == pytest.approx(
        80 * GIB / dp_only.memory_per_device_bytes, rel=1e-9
    )  # injected 80 GiB
    assert f"{dp_only.memory_per_device_bytes / GIB:,.0f} GiB" in row.evidence.measured
    assert hybrid.memory_per_device_bytes < dp_only.memory_per_device_bytes / 100


def test_without_a_compression_measurement_claim_j_is_untested_and_says_what_is_missing(
    monkeypatch,
):
    from scalelab.report import claims_evidence

    monkeypatch.setattr(claims_evidence, "COMPRESS_RESULTS", ("no-such-file.json",))
    results = {k: v for k, v in RESULTS.items() if k != "compress"}
    row = _verdicts(Source(results, "deepseek-v3"))["j"]
    assert row.verdict.label == "untested"
    assert row.verdict.text.startswith("untested until a compression measurement here")
