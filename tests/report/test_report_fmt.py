"""Formatting helpers: compact plan labels, number-vs-text columns, plain tick labels."""

import pytest

from scalelab.core.specs import ParallelPlan
from scalelab.plan.labels import plan_label, plan_options
from scalelab.report.fmt import column_alignments, device_name, is_number_cell
from scalelab.report.plots import plain_number


def test_plan_label_and_options():
    p = ParallelPlan(dp=128, pp=16, ep=64, tp=1, zero_stage=1, schedule="dualpipe", precision="fp8",
                     recompute="selective")  # fmt: skip
    assert plan_label(p) == "TP1·PP16·EP64·DP128"
    assert plan_label(p.model_copy(update={"cp": 2, "dp": 64})) == "TP1·CP2·PP16·EP64·DP64"
    assert plan_options(p) == "DualPipe · ZeRO-1 · recompute sel. · fp8"  # micro-batch unset
    assert plan_options(p.model_copy(update={"microbatch_size": 2})) == (
        "DualPipe · ZeRO-1 · mb2 · recompute sel. · fp8"
    )
    assert (
        plan_label(ParallelPlan(dp=512, tp=2)) == "TP2·PP1·DP512"
    )  # no EP/CP when they do not split


@pytest.mark.parametrize(
    "cell",
    ["2,048", "43.9%", "$4.99M", "0.47x", "74.5 GiB", "-23%", "9.61e-12", "624.9 GiB (8)", "700 W"],
)
def test_numbers(cell):
    assert is_number_cell(cell)


@pytest.mark.parametrize(
    "cell",
    [
        "TP1·PP16·EP64·DP128",
        "tp 1 pp 4",
        "2.302 -> 2.308",
        "H200",
        "no (+38.3 GiB)",
        "holds",
        "1x7168x7168",
    ],
)
def test_text(cell):
    assert not is_number_cell(cell)


def test_a_column_is_right_aligned_only_if_every_cell_is_a_number():
    rows = [["a", "1", "1", "-"], ["b", "2 GiB", "yes", "3"]]
    assert column_alignments(rows, 4) == ["left", "right", "left", "right"]
    assert column_alignments([["-"], [""]], 1) == ["left"]  # nothing to right-align


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4.0, "4"),
        (0.5, "0.5"),
        (0.05, "0.05"),
        (1000.0, "1,000"),
        (20000.0, "20k"),
        (2e6, "2M"),
        (1e-12, "1e-12"),
    ],
)
def test_plain_tick_labels(value, text):
    assert plain_number(value) == text


def test_device_names():
    assert device_name("NVIDIA H800 SXM5 80GB") == "H800"
    assert device_name("Google TPU v5p") == "TPU v5p"
    assert device_name("NVIDIA GB200 (per Blackwell GPU in an NVL72 rack)") == "GB200"


def test_planner_explanations_use_the_compact_plan_form():
    from scalelab.core.specs import ParallelPlan
    from scalelab.plan.explain import describe_plan

    plan = ParallelPlan(tp=1, pp=8, dp=128, ep=32, cp=2, zero_stage=1, schedule="dualpipe",
                        microbatch_size=1, recompute="selective", precision="fp8")  # fmt: skip
    assert describe_plan(plan, 2048) == (
        "TP1·CP2·PP8·EP32·DP128 (DualPipe · ZeRO-1 · mb1 · recompute sel. · fp8) on 2,048 devices"
    )
