"""The claims section turns other sections' numbers into verdicts; missing sections are said so."""

from scalelab.core.catalog import load_model
from scalelab.report.context import ReportContext
from scalelab.report.sections import claims


def _rows(results):
    ctx = ReportContext("deepseek-v3", load_model("deepseek-v3"), results=results)
    return {row[0].split(" (")[0]: row for row in claims.build(ctx).data["claims"]}


def test_without_other_sections_nothing_is_invented():
    rows = _rows({})
    assert rows["gradient norm at layer 50 falls to 1/100"][2] == "-"
    assert rows["DeepSeek-V3 took 2.788M H800 GPU hours"][2] == "-"
    # datasheet-only claims are still checked: TPU v4 bf16 275 vs A100 312 TFLOP/s
    assert "0.88x an A100" in rows["TPU v4's 275 TFLOPS is 3x a GPU"][2]
    assert "2.3x" in rows["a GPU draws about 300 W"][2]  # 691.87 W measured / 300 W


def test_verdicts_follow_the_numbers():
    flows = [
        {"label": "plain tanh", "first_to_last_ratio": 1e-5},
        {"label": "plain relu", "first_to_last_ratio": 0.5},
        {"label": "residual + norm", "first_to_last_ratio": 0.8},
    ]
    rows = _rows(
        {"training_dynamics": {"gradient_flow": flows}, "training": {"total_gpu_hours": 2.5e6}}
    )
    assert rows["gradient norm at layer 50 falls to 1/100"][2].startswith(
        "holds for some plain stacks"
    )
    assert "within 10%" in rows["DeepSeek-V3 took 2.788M H800 GPU hours"][2]  # 2.5 / 2.788 = 0.897
