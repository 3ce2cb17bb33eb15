"""Impossible plans are rejected with one-line reasons."""

from __future__ import annotations

import pytest

from scalelab.core.catalog import load_model
from scalelab.core.errors import InfeasiblePlan
from scalelab.core.specs import ParallelPlan, TrainWorkload
from scalelab.perf.train.plan_arrays import from_plans
from scalelab.perf.train.plan_check import REASONS, check_codes, check_plan

DSV3 = load_model("deepseek-v3")
LLAMA = load_model("llama-3.1-70b")
WL = TrainWorkload(global_batch_size=1024, seq_len=4096)


def _check(model, plan, n=2048):
    check_plan(model, WL, n, from_plans([plan], model, n))


@pytest.mark.parametrize(
    "plan, n, words",
    [
        (ParallelPlan(dp=100, tp=8, pp=2), 2048, "degrees do not match"),
        (ParallelPlan(dp=8, ep=512, pp=1), 8, "does not divide the 256 routed experts"),
        (ParallelPlan(dp=4, tp=3, pp=1), 12, "tp 3 does not divide"),
        (ParallelPlan(dp=16, pp=64), 1024, "exceeds the 61 layers"),
        (ParallelPlan(dp=6, pp=2, schedule="dualpipe"), 12, "global batch"),
    ],
)
def test_rejected_with_one_line_reason(plan, n, words):
    with pytest.raises(InfeasiblePlan) as err:
        _check(DSV3, plan, n)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_dense_model_rejects_ep():
    with pytest.raises(InfeasiblePlan, match="not an MoE model"):
        _check(LLAMA, ParallelPlan(dp=8, ep=2), 8)


def test_dualpipe_needs_even_pp_and_enough_micro_batches():
    with pytest.raises(InfeasiblePlan, match="dualpipe"):
        _check(DSV3, ParallelPlan(dp=128, pp=16, schedule="dualpipe", microbatch_size=8), 2048)
    with pytest.raises(InfeasiblePlan, match="dualpipe"):  # 1024 / 128 = 8 micro-batches < 2 x 16
        _check(DSV3, ParallelPlan(dp=128, pp=16, ep=64, schedule="dualpipe"), 2048)
    wl = TrainWorkload(global_batch_size=4096, seq_len=4096)  # 32 micro-batches
    plan = ParallelPlan(dp=128, pp=16, ep=64, schedule="dualpipe")
    check_plan(DSV3, wl, 2048, from_plans([plan], DSV3, 2048))


def test_codes_vectorized():
    plans = [ParallelPlan(dp=256, pp=8), ParallelPlan(dp=255, pp=8)]
    codes = check_codes(DSV3, WL, 2048, from_plans(plans, DSV3, 2048))
    assert [REASONS[c] for c in codes] == ["ok", "degrees"]
