"""The overfitting claims on digits, measured over 3 seeds: 100 training images are memorized
(train accuracy 100%, a large validation-train loss gap); each regularizer shrinks the gap."""

import json

import pytest

from scalelab.lab.experiments.overfitting import OverfittingConfig, run_overfitting


@pytest.mark.slow
def test_digits_memorized_and_each_regularizer_shrinks_the_gap():
    # One test, so pytest-xdist never runs the ~15 s experiment twice.
    result = run_overfitting(OverfittingConfig(dataset="digits", seeds=3))
    regimes = result.by_regime()
    none = regimes["none"]
    # Memorized, not bit-exact: float results differ across CPUs/BLAS kernels (AVX2 vs AVX-512,
    # thread counts); one image of 300 (3 seeds x 100) may stay wrong, so >= 0.99.
    assert none.train_acc_mean_frac >= 0.99
    assert none.loss_gap_mean > 0.5
    assert none.acc_gap_mean_frac > 0.05
    assert len({s["val_loss"] for s in none.seeds}) == 3, "seeds must differ"
    for name in ("dropout", "weight_decay", "l2"):
        assert regimes[name].loss_gap_mean < 0.8 * none.loss_gap_mean, name
    # Early stopping: the best validation loss comes early, where the gap is still small.
    assert none.best_step_mean < result.config["steps"] / 2
    assert none.loss_gap_at_best_mean < 0.5 * none.loss_gap_mean
    json.dumps(result.to_dict())


def test_text_variant_runs():
    cfg = OverfittingConfig(
        dataset="text", seeds=1, steps=20, eval_every=10, regimes=("none", "dropout")
    )
    result = run_overfitting(cfg)
    assert [r.regime for r in result.regimes] == ["none", "dropout"]
    assert all(0 < r.val_loss_mean < 6 for r in result.regimes)
