"""Every plan the planner returns fits in memory and its degrees multiply to the device count, for
random models and clusters (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import ModelSpec, TrainWorkload
from scalelab.plan.search import search_train
from scalelab.plan.space import SpaceOptions

SMALL = SpaceOptions(micro_batches=(1, 2), zero_stages=(0, 1, 3))


@st.composite
def models(draw):
    heads = draw(st.sampled_from([8, 16, 32, 64]))
    moe = draw(st.booleans())
    fields = dict(
        num_layers=draw(st.integers(4, 48)),
        hidden_size=heads * draw(st.sampled_from([64, 128])),
        num_attention_heads=heads,
        ffn_hidden_size=draw(st.sampled_from([2048, 8192, 14336])),
        vocab_size=draw(st.sampled_from([32000, 128256])),
    )
    if moe:
        fields.update(
            num_routed_experts=draw(st.sampled_from([8, 16, 64])),
            num_experts_per_token=2,
            moe_ffn_hidden_size=1024,
            num_dense_layers=1,
        )
    return ModelSpec(**fields)


@settings(max_examples=12, deadline=None)
@given(
    model=models(),
    acc=st.sampled_from(["h100", "a100", "h800"]),
    n=st.sampled_from([8, 16, 64, 256]),
    gbs=st.sampled_from([64, 256, 1024]),
)
def test_returned_plans_fit_and_degrees_multiply(model, acc, n, gbs):
    cluster = resolve_cluster(f"{acc}x{n}")
    result = search_train(
        model,
        cluster,
        TrainWorkload(global_batch_size=gbs, seq_len=2048),
        "time",
        top=3,
        scale_down=1,
        opts=SMALL,
    )
    for p in result.plans + result.pareto:
        plan = p.prediction.plan
        assert p.prediction.fits_in_memory
        assert p.prediction.memory_per_device_bytes <= cluster.accelerator.hbm_bytes
        assert plan.dp * plan.tp * plan.pp * plan.cp == p.num_devices
        assert model.num_attention_heads % plan.tp == 0
    if not result.plans:
        assert result.no_fit_message and result.no_fit_message.startswith("no plan fits")
