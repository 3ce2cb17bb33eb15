"""Invariants of the model arithmetic over random valid models."""

from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core.specs import ModelSpec
from scalelab.perf.model.flops import train_flops_per_token
from scalelab.perf.model.params import count_params


@st.composite
def models(draw):
    heads = draw(st.sampled_from([1, 2, 4, 8, 16]))
    head_dim = draw(st.sampled_from([16, 32, 64, 128]))
    kv = draw(st.sampled_from([k for k in (1, 2, 4, 8, 16) if heads % k == 0]))
    layers = draw(st.integers(1, 64))
    fields = dict(
        num_layers=layers,
        hidden_size=heads * head_dim,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        vocab_size=draw(st.integers(100, 200_000)),
        activation=draw(st.sampled_from(["swiglu", "gelu"])),
        tied_embeddings=draw(st.booleans()),
    )
    if draw(st.booleans()):
        experts = draw(st.integers(2, 64))
        fields |= dict(
            num_routed_experts=experts,
            num_experts_per_token=draw(st.integers(1, experts)),
            num_shared_experts=draw(st.integers(0, 2)),
            moe_ffn_hidden_size=draw(st.integers(8, 4096)),
            num_dense_layers=draw(st.integers(0, layers)),
            dense_ffn_hidden_size=draw(st.integers(8, 8192)),
        )
    else:
        fields["ffn_hidden_size"] = draw(st.integers(8, 16384))
    return ModelSpec(**fields)


@settings(max_examples=150, deadline=None)
@given(models(), st.sampled_from([512, 2048, 8192]))
def test_counts_positive_and_active_le_total(m, seq):
    c = count_params(m)
    assert c.total > 0 and 0 < c.active_per_token <= c.total
    assert train_flops_per_token(m, seq) > 0


@settings(max_examples=100, deadline=None)
@given(models(), st.integers(1, 8))
def test_monotone_in_layers(m, extra):
    deeper = m.model_copy(update={"num_layers": m.num_layers + extra})
    assert count_params(deeper).total > count_params(m).total
    assert train_flops_per_token(deeper, 2048) > train_flops_per_token(m, 2048)


@settings(max_examples=100, deadline=None)
@given(models())
def test_monotone_in_hidden(m):
    wider = m.model_copy(update={"hidden_size": m.hidden_size * 2, "head_dim": m.attn_head_dim * 2})
    assert count_params(wider).total > count_params(m).total
    assert train_flops_per_token(wider, 2048) > train_flops_per_token(m, 2048)
