import pytest
import torch
from pydantic import ValidationError
from torch import nn

from scalelab.lab.models.transformer import Transformer, TransformerConfig, flops_per_token

CFG = TransformerConfig(d_model=32, n_layers=2, n_heads=4, seq_len=16)


def test_logits_shape():
    model = Transformer(CFG)
    assert model(torch.randint(0, 256, (3, 16))).shape == (3, 16, 256)


def test_causal_future_tokens_do_not_change_the_past():
    torch.manual_seed(0)
    model = Transformer(CFG).eval()
    x = torch.randint(0, 256, (1, 16))
    y = x.clone()
    y[0, 10:] = (y[0, 10:] + 1) % 256
    assert torch.allclose(model(x)[0, :10], model(y)[0, :10], atol=1e-6)
    assert not torch.allclose(model(x)[0, 10:], model(y)[0, 10:])


def test_heads_must_divide_width():
    with pytest.raises(ValidationError, match="divisible"):
        TransformerConfig(d_model=30, n_heads=4)


def test_too_long_sequence_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        Transformer(CFG)(torch.zeros(1, 17, dtype=torch.int64))


@pytest.mark.parametrize("mlp", ["gelu", "swiglu"])
def test_flops_per_token_matches_counted_matmul_params(mlp):
    cfg = CFG.model_copy(update={"mlp": mlp})
    model = Transformer(cfg)
    matmul = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    attention = 12 * cfg.n_layers * cfg.d_model * cfg.seq_len
    assert flops_per_token(cfg) == 6 * matmul + attention


def test_tied_embeddings_share_storage():
    model = Transformer(CFG)
    assert model.head.weight is model.tok_emb.weight


@pytest.mark.parametrize("position", ["pre", "post", "none"])
@pytest.mark.parametrize("residual", [True, False])
def test_every_switch_trains_one_step(position, residual):
    torch.manual_seed(0)
    cfg = CFG.model_copy(update={"norm_position": position, "residual": residual, "norm": "layer"})
    model = Transformer(cfg)
    x = torch.randint(0, 256, (2, 16))
    loss = nn.functional.cross_entropy(model(x).flatten(0, 1), x.flatten())
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.blocks[0].parameters())
