import pytest

from scalelab.core.catalog import load_model
from scalelab.core.specs import ModelSpec
from scalelab.perf.model.flops import (
    attention_core_fwd_flops_per_token,
    inference_flops_per_token,
    train_flops_per_token,
)

TINY = ModelSpec(
    num_layers=1,
    hidden_size=8,
    num_attention_heads=2,
    ffn_hidden_size=16,
    vocab_size=10,
    tied_embeddings=True,
)


def test_attention_core_by_hand():
    # 2 * heads * ctx * (dqk + dv) = 2*2*100*(4+4) = 3200, halved when causal
    assert attention_core_fwd_flops_per_token(TINY, 100, causal=False) == 3200
    assert attention_core_fwd_flops_per_token(TINY, 100, causal=True) == 1600


def test_train_is_three_forwards_and_recompute_adds():
    base = train_flops_per_token(TINY, 100)
    assert train_flops_per_token(TINY, 100, recompute="full") == pytest.approx(base * 4 / 3)
    sel = train_flops_per_token(TINY, 100, recompute="selective")
    assert base < sel < base * 4 / 3


def test_megatron_eq3_for_gpt3():
    # Narayanan et al. eq. 3 without recompute: 72 B s l h^2 (1 + s/6h + V/(12 l h)) per batch
    m = load_model("gpt3-175b")
    s, n_layers, h, v = 2048, 96, 12288, 50257
    eq3_per_token = 72 * n_layers * h**2 * (1 + s / (6 * h) + v / (12 * n_layers * h))
    ours = train_flops_per_token(m, s, causal=False)
    assert ours == pytest.approx(eq3_per_token, rel=0.001)


def test_inference_grows_with_context():
    m = load_model("llama-3.1-8b")
    assert inference_flops_per_token(m, 8192) > inference_flops_per_token(m, 1024) > 2 * 7e9
