import math

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from scalelab.lab.models.mlp import DeepMLP, MLPConfig


def test_shapes_and_block_count():
    model = DeepMLP(MLPConfig(in_features=8, num_classes=3, width=16, depth=7))
    assert len(model.blocks) == 7
    assert model(torch.randn(5, 8)).shape == (5, 3)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_norm_switch_adds_layernorms(norm):
    plain = DeepMLP(MLPConfig(depth=3, norm="none"))
    normed = DeepMLP(MLPConfig(depth=3, norm=norm))
    count = lambda m: sum(isinstance(x, nn.LayerNorm) for x in m.modules())  # noqa: E731
    assert count(plain) == 0
    assert count(normed) == 3 + (1 if norm == "pre" else 0)


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    cfg = MLPConfig(width=4, depth=1, residual=True, activation="relu")
    block = DeepMLP(cfg).blocks[0]
    x = torch.randn(2, 4)
    assert torch.allclose(block(x), x + torch.relu(block.linear(x)))


def test_kaiming_init_has_he_variance():
    torch.manual_seed(0)
    model = DeepMLP(MLPConfig(width=512, depth=2, init="kaiming"))
    w = model.blocks[0].linear.weight
    assert w.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    assert torch.count_nonzero(model.blocks[0].linear.bias) == 0


def test_default_init_is_pytorch_uniform():
    torch.manual_seed(0)
    w = DeepMLP(MLPConfig(width=256, depth=1, init="default")).blocks[0].linear.weight
    bound = 1 / math.sqrt(256)
    assert w.abs().max().item() <= bound
    assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_dropout_only_in_training():
    model = DeepMLP(MLPConfig(width=32, depth=2, dropout=0.5))
    x = torch.randn(4, 64)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


def test_config_rejects_unknown_fields():
    with pytest.raises(ValidationError):
        MLPConfig(depht=3)
