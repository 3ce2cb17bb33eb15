import pytest

from scalelab.core.catalog import load_model
from scalelab.core.specs import ModelSpec
from scalelab.perf.model.params import attention_params, count_params, ffn_params

TINY = ModelSpec(
    num_layers=2,
    hidden_size=8,
    num_attention_heads=2,
    num_key_value_heads=1,
    ffn_hidden_size=16,
    vocab_size=10,
)


def test_tiny_dense_by_hand():
    # q 8x8, k 8x4, v 8x4, o 8x8 = 64+32+32+64
    assert attention_params(TINY) == 192
    assert ffn_params(8, 16, "swiglu") == 384
    c = count_params(TINY)
    # embed 80 + head 80 + 2*(192+384) + norms (2*2+1)*8
    assert c.total == 80 + 80 + 2 * (192 + 384) + 40
    assert c.active_per_token == c.total


def test_tiny_moe_by_hand():
    m = ModelSpec(
        num_layers=2,
        hidden_size=8,
        num_attention_heads=2,
        vocab_size=10,
        num_routed_experts=4,
        num_shared_experts=1,
        num_experts_per_token=2,
        moe_ffn_hidden_size=4,
        num_dense_layers=1,
        dense_ffn_hidden_size=16,
        tied_embeddings=True,
    )
    c = count_params(m)
    expert = 3 * 8 * 4
    assert c.routed_experts == 4 * expert and c.shared_experts == expert
    assert c.router == 4 * 8 and c.head == 0
    assert c.total - c.active_per_token == 2 * expert  # two routed experts idle per token


@pytest.mark.parametrize(
    ("model_id", "total", "active"),
    [
        ("deepseek-v3", 671e9, 37e9),  # DeepSeek-V3 TR Sec 4.2
        ("deepseek-v2", 236e9, 21e9),  # DeepSeek-V2 paper abstract
        ("mixtral-8x7b", 46.7e9, 12.9e9),  # Mixtral paper Sec 2.1
        ("llama-3.1-70b", 70.6e9, 70.6e9),
        ("gpt3-175b", 175e9, 175e9),  # GPT-3 Table 2.1
    ],
)
def test_published_sizes(model_id, total, active):
    c = count_params(load_model(model_id))
    assert c.total == pytest.approx(total, rel=0.02)
    assert c.active_per_token == pytest.approx(active, rel=0.02)


def test_deepseek_v3_mtp_reported_separately():
    c = count_params(load_model("deepseek-v3"))
    assert c.mtp == pytest.approx(
        11.5e9, rel=0.02
    )  # DeepSeek-V3 README: 14B MTP incl. 2.6B... 11.5B unique
