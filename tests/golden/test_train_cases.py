"""Every `kind: train` case of the shipped public.yaml: predicted vs published, within its tolerance."""

from __future__ import annotations

import pytest

from scalelab.validate.runner import load_cases, median_errors, run_case, run_cases

TRAIN_CASES = [c for c in load_cases() if c["kind"] == "train"]


@pytest.mark.parametrize("case", TRAIN_CASES, ids=[c["id"] for c in TRAIN_CASES])
def test_train_case(case):
    result = run_case(case)
    assert not result.message, result.message
    for m in result.metrics:
        print(
            f"{case['id']}: {m.key} predicted {m.predicted:.4g} expected {m.expected:.4g} "
            f"error {100 * (m.rel_error or 0):.1f}%"
        )
    bad = [m.key for m in result.metrics if result.metric_status(m) != "pass"]
    assert not bad, f"outside {case['tolerance_frac']:.0%}: {bad}"


def test_median_timing_error_at_most_8_percent():
    medians = median_errors(run_cases(kind="train"))
    print(f"median relative error of step_time/mfu/tflops over train cases: {medians['train']:.3f}")
    assert medians["train"] <= 0.08
