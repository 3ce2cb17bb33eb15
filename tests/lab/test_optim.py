import math

import pytest
import torch

from scalelab.lab.models.mlp import DeepMLP, MLPConfig
from scalelab.lab.optim import OptimConfig, build_optimizer, l2_penalty, lr_at


def test_warmup_then_cosine_to_floor():
    cfg = OptimConfig(lr=1.0, warmup_steps=10, min_lr_frac=0.1)
    assert lr_at(0, 110, cfg) == pytest.approx(0.1)
    assert lr_at(9, 110, cfg) == pytest.approx(1.0)
    assert lr_at(10, 110, cfg) == pytest.approx(1.0)
    assert lr_at(60, 110, cfg) == pytest.approx(0.55)  # halfway down the cosine
    assert lr_at(110, 110, cfg) == pytest.approx(0.1)
    lrs = [lr_at(s, 110, cfg) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))


def test_constant_schedule():
    cfg = OptimConfig(lr=0.5, schedule="constant")
    assert {lr_at(s, 50, cfg) for s in range(50)} == {0.5}


def test_weight_decay_spares_biases_and_norm_gains():
    model = DeepMLP(MLPConfig(width=8, depth=2, norm="pre"))
    opt = build_optimizer(model, OptimConfig(weight_decay=0.3))
    decayed, spared = opt.param_groups
    assert decayed["weight_decay"] == 0.3 and spared["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decayed["params"])
    assert all(p.ndim == 1 for p in spared["params"])
    assert len(decayed["params"]) + len(spared["params"]) == len(list(model.parameters()))


def test_l2_gradient_is_l2_times_weight():
    model = DeepMLP(MLPConfig(width=4, depth=1))
    l2_penalty(model, 0.2).backward()
    w = model.blocks[0].linear.weight
    assert torch.allclose(w.grad, 0.2 * w.detach())
    assert model.blocks[0].linear.bias.grad is None


def test_sgd_weight_decay_equals_explicit_l2():
    """For plain SGD the two forms coincide (Loshchilov & Hutter 2019, sec. 2)."""
    results = []
    for wd, l2 in ((0.1, 0.0), (0.0, 0.1)):
        torch.manual_seed(0)
        model = DeepMLP(MLPConfig(width=4, depth=1, in_features=3, num_classes=2))
        cfg = OptimConfig(name="sgd", lr=0.1, weight_decay=wd, l2=l2, momentum=0.0)
        opt = build_optimizer(model, cfg)
        loss = model(torch.ones(2, 3)).sum() + l2_penalty(model, cfg.l2)
        loss.backward()
        opt.step()
        results.append(model.blocks[0].linear.weight.detach().clone())
    assert torch.allclose(results[0], results[1], atol=1e-7)


def test_betas_validated():
    with pytest.raises(ValueError):
        OptimConfig(betas=(0.9, 1.5))
    assert math.isfinite(OptimConfig().lr)
