"""The verdict rule (report/claims_rule.py) on hand-computed cases."""

import math

import pytest

from scalelab.report.claims_rule import Part, distance, factor_text, judge, judge_part


def test_distance_about_is_symmetric():
    # claimed 300 W, measured 691.87 W: 691.87 / 300 = 2.306
    assert distance(Part("W", 300.0, "about", 691.87)) == pytest.approx(2.3062, rel=1e-4)
    # claimed 0.01, measured 2.1e-11: 0.01 / 2.1e-11 = 4.76e8
    assert distance(Part("ratio", 1e-2, "about", 2.1e-11)) == pytest.approx(4.762e8, rel=1e-3)


def test_distance_bounds_count_only_the_wrong_side():
    assert distance(Part("%", 30.0, "at least", 37.3)) == 1.0
    assert distance(Part("%", 30.0, "at least", 5.6)) == pytest.approx(30 / 5.6)  # 5.357
    assert distance(Part("ms", 1.0, "at most", 0.4)) == 1.0
    assert distance(Part("ms", 1.0, "at most", 1.61)) == pytest.approx(1.61)
    assert math.isinf(distance(Part("x", 2.0, "about", 0.0)))


@pytest.mark.parametrize(
    ("part", "label"),
    [
        (Part("q", 100.0, "about", 140.0), "holds"),  # d = 1.4
        (Part("q", 100.0, "about", 150.0), "holds"),  # d = 1.5 exactly: within
        (Part("q", 100.0, "about", 151.0), "partly"),  # d = 1.51
        (Part("q", 100.0, "about", 999.0), "partly"),  # d = 9.99
        (Part("q", 100.0, "about", 1000.0), "does not hold"),  # d = 10: an order of magnitude
        (Part("q", 100.0, "about", 9.0), "does not hold"),  # d = 11.1
        (Part("q", 10.0, "at most", 0.1), "holds"),
    ],
)
def test_thresholds(part, label):
    assert judge_part(part).label == label


def test_a_claimed_gain_that_is_a_loss_does_not_hold_even_if_close():
    # TPU v4 / A100: 275 / 312 = 0.881; d = 3 / 0.881 = 3.4 would be "partly", but it is no gain
    v = judge_part(Part("TPU/GPU", 3.0, "about", 275 / 312, gain=True))
    assert v.label == "does not hold" and "not a gain" in v.text
    assert judge_part(Part("x", 3.0, "about", 2.5, gain=True)).label == "holds"  # d = 1.2


def test_the_weakest_part_decides_and_is_named():
    parts = (
        Part("board power (W)", 300.0, "about", 691.87),  # partly, d = 2.31
        Part("kWh a year", 1e6, "at least", 6.07e6),  # holds
    )
    v = judge(parts)
    assert v.label == "partly" and v.part == "board power (W)"
    assert "deciding part: board power (W)" in v.text


def test_untested_names_the_missing_capability():
    v = judge((), missing="scalelab.compress's INT8 measurement")
    assert v.label == "untested" and v.distance is None
    assert v.text == "untested until scalelab.compress's INT8 measurement exists"


def test_gradient_claim_at_nine_orders_of_magnitude_does_not_hold():
    v = judge((Part("layer 1 / layer 50", 1e-2, "about", 2.1e-11),))
    assert v.label == "does not hold"
    assert v.text == "does not hold (off by 8.7 orders of magnitude)"  # log10(4.76e8) = 8.68


def test_factor_text():
    assert factor_text(2.306) == "2.3×"
    assert factor_text(16.0) == "16×"
    assert factor_text(4.76e8) == "8.7 orders of magnitude"
