"""DDP, FSDP, TP(+SP) and PP compute the single-process loss and gradients on the same global
batch (2 and 4 gloo processes, one job per world size for all plans)."""

from __future__ import annotations

import pytest

from scalelab.lab.parallel.verify import GradientCheck, check_plans

pytestmark = pytest.mark.dist

# Float sums over other shapes/orders differ in the last bits only: gradients are O(1e-2).
GRAD_ATOL = 2e-6
LOSS_ATOL = 2e-6

PLANS_2 = {
    "ddp": {"dp": 2},
    "fsdp-zero3": {"dp": 2, "zero_stage": 3},
    "fsdp-zero2": {"dp": 2, "zero_stage": 2},
    "fsdp-recompute": {"dp": 2, "zero_stage": 3, "recompute": "full"},
    "tp-sp": {"tp": 2, "sequence_parallel": True},
    "tp-no-sp": {"tp": 2, "sequence_parallel": False},
    "pp-1f1b": {"pp": 2, "schedule": "1f1b", "microbatch_size": 2},
    "pp-gpipe": {"pp": 2, "schedule": "gpipe", "microbatch_size": 4},
}
PLANS_4 = {
    "ddp2-tp2": {"dp": 2, "tp": 2},
    "fsdp2-tp2": {"dp": 2, "tp": 2, "zero_stage": 3},
    "pp2-fsdp2": {"pp": 2, "dp": 2, "zero_stage": 3, "microbatch_size": 2},
    "pp2-tp2": {"pp": 2, "tp": 2, "microbatch_size": 2},
    "pp4": {"pp": 4, "microbatch_size": 2},
}


def _mismatches(checks: dict[str, GradientCheck]) -> list[str]:
    bad = []
    for name, c in checks.items():
        compared = c.num_params_compared > 0 and c.max_abs_grad > 1e-4  # not trivially zero
        loss_ok = abs(c.loss - c.reference_loss) <= LOSS_ATOL
        norm_ok = c.grad_norm == pytest.approx(c.reference_grad_norm, rel=1e-5)  # clipping
        if not (compared and loss_ok and norm_ok and c.max_abs_grad_diff <= GRAD_ATOL):
            bad.append(f"{name}: {c}")
    return bad


# One job per world size runs every plan (process start-up dominates on 2 cores).
def test_two_process_plans_match_one_device(make_run):
    results = check_plans(make_run(), list(PLANS_2.values()), world_size=2)
    assert not _mismatches(dict(zip(PLANS_2, results, strict=True)))


def test_four_process_plans_match_one_device(make_run):
    results = check_plans(make_run(), list(PLANS_4.values()), world_size=4)
    assert not _mismatches(dict(zip(PLANS_4, results, strict=True)))
