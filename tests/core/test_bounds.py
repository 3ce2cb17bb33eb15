"""core/bounds.py: the words for a number out of bounds, shared by the CLI and the web page."""

import math

import pytest

from scalelab.core.bounds import finite_in, float_of, int_in


def test_integers_as_typed_within_bounds():
    assert int_in("7", lo=1, hi=10) == 7
    assert int_in(3) == 3
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        int_in("0", lo=1)
    with pytest.raises(ValueError, match="less than or equal to 10"):
        int_in("11", hi=10)
    with pytest.raises(ValueError, match="valid integer"):
        int_in("1.5")


def test_floats_must_be_finite_and_within_bounds():
    assert finite_in(2.5, gt=0, le=10) == 2.5
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            finite_in(bad, gt=0)
    with pytest.raises(ValueError, match=r"must be > 0, got -5"):
        finite_in(-5.0, gt=0)
    with pytest.raises(ValueError, match=r"must be <= 1, got 2"):
        finite_in(2.0, le=1)
    assert float_of("1e3") == 1000.0
    with pytest.raises(ValueError, match="valid number"):
        float_of("fast")


def test_the_cli_says_the_same_words(cli):
    code, _, err = cli("plan", "--model", "llama-3.1-8b", "--cluster", "h100x8",
                       "--global-batch", "8", "--seq", "0")  # fmt: skip
    with pytest.raises(ValueError) as exc:
        int_in("0", lo=1)
    assert code == 1 and f"Invalid value for '--seq': {exc.value}" in err
