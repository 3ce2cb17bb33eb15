"""Pipeline schedules: bubbles, in-flight micro-batches, the DualPipe reference schedule."""

from __future__ import annotations

import pytest

from scalelab.perf.train.plan_arrays import (
    SCHED_1F1B,
    SCHED_DUALPIPE,
    SCHED_GPIPE,
    SCHED_INTERLEAVED,
    SCHED_ZB,
)
from scalelab.perf.train.schedules import (
    bubble_fraction,
    bubble_time_s,
    dualpipe_time_s,
    in_flight_micro_batches,
)


@pytest.mark.parametrize("p, m", [(4, 8), (16, 32), (8, 96)])
def test_1f1b_bubble_fraction(p, m):
    assert float(bubble_fraction(SCHED_1F1B, p, m)) == pytest.approx((p - 1) / (m + p - 1))


def test_interleaving_divides_the_bubble():
    # Narayanan et al. SC'21 Sec 2.2.2: (p-1)/v of the 1F1B bubble
    plain = float(bubble_time_s(SCHED_1F1B, 8, 1, 1.0, 2.0, 0.0))
    assert plain == pytest.approx(7 * 3.0)
    assert float(bubble_time_s(SCHED_INTERLEAVED, 8, 4, 1.0, 2.0, 0.0)) == pytest.approx(plain / 4)


def test_zero_bubble_and_dualpipe_formulas():
    # ZB-H1: (p-1)(F + B - 2W) with B the full backward (b + w)
    assert float(bubble_time_s(SCHED_ZB, 8, 1, 1.0, 1.0, 1.0)) == pytest.approx(7 * (1 + 2 - 2))
    # DualPipe: (p/2 - 1)(F&B + B - 3W)
    assert float(
        bubble_time_s(SCHED_DUALPIPE, 8, 1, 1.0, 1.0, 1.0, fb_overlapped=2.5)
    ) == pytest.approx(3 * (2.5 + 2 - 3))
    assert float(bubble_time_s(SCHED_1F1B, 1, 1, 1.0, 1.0, 1.0)) == 0.0


def test_in_flight():
    assert float(in_flight_micro_batches(SCHED_GPIPE, 4, 32, 1)) == 32
    assert float(in_flight_micro_batches(SCHED_1F1B, 4, 32, 1)) == 4
    assert float(in_flight_micro_batches(SCHED_1F1B, 8, 3, 1)) == 3
    assert float(in_flight_micro_batches(SCHED_INTERLEAVED, 4, 32, 2)) == pytest.approx(
        4 * (1 + 3 / 8)
    )
    assert float(in_flight_micro_batches(SCHED_DUALPIPE, 16, 120, 1)) == pytest.approx(17 / 2)
    assert float(in_flight_micro_batches(SCHED_1F1B, 1, 32, 1)) == 1


def test_dualpipe_reference_schedule_counts():
    # pp 8 (H = 4), m 20 as in the DualPipe README; unpaired: 11 F, 7 b, 4 (b + w), 7 w; 9 F&B pairs
    total, bubble = dualpipe_time_s(8, 20, 1.0, 2.0, 0.5, 2.0)
    own = 11 * 1.0 + 9 * 2.0 + 7 * 2.0 + 4 * 2.5 + 7 * 0.5
    idle = 3 * (2.0 + 2.0 + 0.5 - 3 * 0.5)
    assert float(total) == pytest.approx(own + idle)
    assert float(bubble) == pytest.approx(own + idle - 20 * 2.0)
