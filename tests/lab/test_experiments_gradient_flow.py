"""The gradient-flow claims, measured: a plain 50-block tanh MLP with PyTorch's default init
vanishes (first/last <= 1/100); He init for ReLU, or residual + normalization, stay within 10x."""

import json
import math

import pytest

from scalelab.lab.experiments.gradient_flow import GradientFlowConfig, run_gradient_flow


@pytest.fixture(scope="module")
def plain():
    return run_gradient_flow(GradientFlowConfig(depth=50, activation="tanh", init="default"))


def test_plain_tanh_default_init_vanishes(plain):
    assert plain.first_to_last_ratio_at_init <= 1e-2
    assert plain.first_to_last_ratio <= 1e-2
    assert all(r <= 1e-2 for r in plain.ratio_by_step.values())
    assert plain.verdict == "vanishing"
    # The stack barely learns: 10 classes at chance cost ln 10 = 2.30 nats.
    assert plain.train_loss_last > 0.9 * math.log(10)


def test_reported_numbers_are_consistent(plain):
    norms = plain.grad_norm_by_layer
    assert len(norms) == 50 and len(plain.activation_std_by_layer) == 50
    assert plain.first_to_last_ratio_at_init == pytest.approx(norms[0] / norms[-1])
    assert sorted(plain.ratio_by_step) == [0, 5, 10, 15]
    json.dumps(plain.to_dict())


def test_plain_relu_default_init_vanishes_too():
    r = run_gradient_flow(GradientFlowConfig(activation="relu", init="default"))
    assert r.first_to_last_ratio_at_init <= 1e-2 and r.verdict == "vanishing"


@pytest.mark.parametrize(
    "variant",
    [
        {"activation": "relu", "init": "kaiming"},  # plain, but He init: no cure needed
        {"residual": True, "norm": "pre"},
        {"residual": True, "norm": "post"},
    ],
)
def test_cures_keep_the_ratio_within_10x(variant):
    r = run_gradient_flow(GradientFlowConfig(depth=50, **variant))
    assert 0.1 <= r.first_to_last_ratio_at_init <= 10
    assert 0.1 <= r.first_to_last_ratio <= 10
    assert r.verdict == "healthy"


def test_residual_normalized_stack_learns_where_plain_does_not(plain):
    cured = run_gradient_flow(GradientFlowConfig(residual=True, norm="pre"))
    assert cured.train_loss_last < 0.5 * plain.train_loss_last


def test_transformer_plain_vanishes_residual_prenorm_does_not():
    base = GradientFlowConfig(model="transformer", depth=12, width=32, steps=6, every=3)
    plain = run_gradient_flow(base.model_copy(update={"init": "normal"}))
    cured = run_gradient_flow(
        base.model_copy(update={"init": "normal", "residual": True, "norm": "pre"})
    )
    assert plain.verdict == "vanishing"
    assert cured.verdict == "healthy" and 0.1 <= cured.first_to_last_ratio <= 10
