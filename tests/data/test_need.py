"""data/need.py: compute-optimal tokens and bytes, the fitted law's optimum checked by brute-force
minimization, Muennighoff's repeated-epoch value, and the model shape used for time and cost."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.errors import ConfigError
from scalelab.data.need import (
    BESIROGLU,
    HOFFMANN,
    R_STAR_D,
    data_need,
    dense_model_for_params,
    effective_tokens,
    tb_scale_claim,
)
from scalelab.perf.model.params import count_params


def test_100b_needs_2t_tokens_and_8_tb():
    need = data_need(100e9)
    assert need.tokens == pytest.approx(2e12)  # 20 tokens per parameter
    assert need.bytes == pytest.approx(8e12)  # at 4 bytes per token
    assert "Hoffmann" in need.method and "Muennighoff" in need.method


@pytest.mark.parametrize("law", [HOFFMANN, BESIROGLU])
def test_fitted_optimum_is_the_minimum_loss_at_fixed_compute(law):
    """Independent check: scan N at the compute 6 N D* spends; the best N is the one asked for."""
    params = 70e9
    tokens = law.optimal_tokens(params)
    compute = 6 * params * tokens
    grid = params * np.logspace(-1, 1, 2001)
    losses = [law.loss(n, compute / (6 * n)) for n in grid]
    assert grid[int(np.argmin(losses))] == pytest.approx(params, rel=0.01)


def test_replication_gives_about_20_tokens_per_parameter():
    ratio = BESIROGLU.optimal_tokens(100e9) / 100e9
    assert 15 < ratio < 25  # Besiroglu et al. 2024: consistent with Chinchilla's ~20
    assert HOFFMANN.optimal_tokens(100e9) / 100e9 > 50  # the original fit's known outlier


def test_repeated_epochs():
    assert effective_tokens(1e9, 1) == pytest.approx(1e9)
    four = effective_tokens(1.0, 4)
    assert 3.6 < four < 4.0  # Muennighoff et al. 2023: up to ~4 epochs is almost as good as new
    assert effective_tokens(1.0, 1e6) == pytest.approx(1 + R_STAR_D, rel=1e-3)  # saturates
    need = data_need(100e9, epochs=(1, 4))
    assert need.epochs[1].unique_tokens == pytest.approx(need.tokens / four)


def test_claim_numbers_are_tb_scale():
    claim = tb_scale_claim()
    assert claim["tokens"] == pytest.approx(2e12) and claim["terabytes"] == pytest.approx(8.0)
    assert 1.0 <= claim["unique_bytes_at_4_epochs"] / 1e12 < 8.0


@pytest.mark.parametrize("params", [1e9, 8e9, 100e9, 1e12])
def test_dense_shape_matches_the_parameter_count(params):
    model = dense_model_for_params(params)
    assert count_params(model).total == pytest.approx(params, rel=0.05)


def test_bad_need_inputs():
    with pytest.raises(ConfigError, match="--params"):
        data_need(0)
    with pytest.raises(ConfigError, match="--bytes-per-token"):
        data_need(1e9, bytes_per_token=-1)
    with pytest.raises(ConfigError, match="--params"):
        dense_model_for_params(10)
