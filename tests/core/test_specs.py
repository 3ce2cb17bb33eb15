import pytest
from pydantic import ValidationError

from scalelab.core.specs import ModelSpec, ParallelPlan

BASE = dict(
    num_layers=2, hidden_size=64, num_attention_heads=4, ffn_hidden_size=128, vocab_size=100
)


def test_valid_dense_model():
    m = ModelSpec(**BASE)
    assert m.kv_heads == 4 and m.attn_head_dim == 16 and not m.is_moe


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_attention_heads": 5}, "does not divide hidden_size"),
        ({"num_key_value_heads": 3}, "does not divide num_attention_heads"),
        (
            {"num_routed_experts": 4, "num_experts_per_token": 5, "moe_ffn_hidden_size": 8},
            "exceeds",
        ),
        ({"num_routed_experts": 4, "num_experts_per_token": 2}, "moe_ffn_hidden_size"),
        ({"num_layers": -1}, "greater than 0"),
        ({"hidden_sise": 64}, "Extra inputs"),
    ],
)
def test_invalid_models(change, message):
    with pytest.raises(ValidationError, match=message):
        ModelSpec(**{**BASE, **change})


def test_mla_needs_head_dims():
    with pytest.raises(ValidationError, match="qk_nope_head_dim"):
        ModelSpec(**{**BASE, "kv_lora_rank": 16})


def test_plan_degrees_positive_and_dp_derived():
    with pytest.raises(ValidationError):
        ParallelPlan(tp=0)
    assert ParallelPlan(tp=8, pp=2).data_parallel_degree(256) == 16
    assert ParallelPlan(dp=3).data_parallel_degree(256) == 3


def test_specs_are_frozen():
    m = ModelSpec(**BASE)
    with pytest.raises(ValidationError):
        m.num_layers = 3


def test_unknown_optimization_is_rejected_with_the_valid_list():
    from scalelab.core.specs import OPTIMIZATIONS

    with pytest.raises(ValidationError, match="unknown optimization 'tp-comm-overlapp'.*valid"):
        ParallelPlan(optimizations=["tp-comm-overlapp"])
    plan = ParallelPlan(optimizations=list(OPTIMIZATIONS))
    assert tuple(plan.optimizations) == OPTIMIZATIONS


def test_default_micro_batch_is_the_local_batch_without_pipelining():
    assert ParallelPlan(dp=4).micro_batch(64, 4) == 16  # no gradient accumulation
    assert ParallelPlan(dp=4, pp=2, schedule="1f1b").micro_batch(64, 8) == 1
    assert ParallelPlan(dp=4, microbatch_size=2).micro_batch(64, 4) == 2
