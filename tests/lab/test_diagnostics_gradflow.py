import math

import pytest
import torch
from torch import nn

from scalelab.lab.diagnostics.gradflow import LayerMonitor, first_to_last_ratio, judge_gradient_flow


def _two_layers():
    l1, l2 = nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        l1.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, 3.0]]))
        l2.weight.copy_(torch.tensor([[4.0, -1.0]]))
    return l1, l2


def test_norms_match_hand_computed_gradients():
    l1, l2 = _two_layers()
    x = torch.tensor([[1.0, 1.0]])
    monitor = LayerMonitor([("l1", l1), ("l2", l2)], every_n_steps=1)
    assert monitor.arm(0)
    l2(l1(x)).sum().backward()
    r1, r2 = monitor.collect()
    # dL/dW1 = W2^T x^T -> |W2| |x|; dL/dW2 = (W1 x)^T; dL/d(out1) = W2; dL/d(out2) = 1.
    assert r1.grad_norm == pytest.approx(math.sqrt(17) * math.sqrt(2))
    assert r2.grad_norm == pytest.approx(math.sqrt(3**2 + 3**2))
    assert r1.output_grad_norm == pytest.approx(math.sqrt(17))
    assert r2.output_grad_norm == pytest.approx(1.0)
    assert r1.act_mean == pytest.approx(3.0)  # W1 x = (3, 3)
    assert r2.act_zero_frac == 0.0


def test_hooks_only_on_measured_steps_and_removed_after():
    l1, l2 = _two_layers()
    monitor = LayerMonitor([("l1", l1), ("l2", l2)], every_n_steps=3)
    assert not monitor.arm(1)
    assert not l1._forward_hooks
    assert monitor.arm(3)
    assert l1._forward_hooks
    l2(l1(torch.ones(1, 2))).sum().backward()
    monitor.collect()
    assert not l1._forward_hooks and not l2._forward_hooks
    assert list(monitor.grad_norms_by_step()) == [3]


def test_verdicts_and_ratio():
    assert first_to_last_ratio([1e-3, 1.0, 2.0]) == pytest.approx(5e-4)
    assert judge_gradient_flow({0: [1e-3, 1.0], 5: [2e-3, 1.0]}).verdict == "vanishing"
    assert judge_gradient_flow({0: [50.0, 1.0]}).verdict == "exploding"
    v = judge_gradient_flow({0: [0.5, 1.0], 5: [3.0, 1.0], 10: [9.0, 1.0]})
    assert v.verdict == "healthy" and v.first_to_last_ratio == pytest.approx(3.0)
    assert v.first_to_last_ratio_at_start == pytest.approx(0.5)
    assert judge_gradient_flow({0: [0.0, 0.0]}).verdict == "vanishing"
    with pytest.raises(ValueError):
        judge_gradient_flow({})
