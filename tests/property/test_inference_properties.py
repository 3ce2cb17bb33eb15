"""Invariants of the serving model: context, bandwidth, memory capacity."""

from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core import catalog
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import InferenceWorkload, ParallelPlan
from scalelab.perf.serve.predict import make_deployment, predict_inference

MODELS = ("llama-3.1-8b", "llama-3.1-70b", "deepseek-v3", "mixtral-8x7b", "qwen2.5-72b")
PLANS = {
    "llama-3.1-8b": [
        ParallelPlan(),
        ParallelPlan(tp=2),
        ParallelPlan(pp=2, dual_microbatch_overlap=True),
    ],
    "llama-3.1-70b": [ParallelPlan(tp=8), ParallelPlan(tp=4, pp=2)],
    "deepseek-v3": [ParallelPlan(tp=4, ep=64, dual_microbatch_overlap=True), ParallelPlan(ep=64)],
    "mixtral-8x7b": [ParallelPlan(tp=2), ParallelPlan(tp=2, ep=8)],
    "qwen2.5-72b": [ParallelPlan(tp=8)],
}
CLUSTERS = ("h800-sxm5-80gbx64", "h200-sxm-141gbx64", "b200x64")
SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def setups(draw):
    model_id = draw(st.sampled_from(MODELS))
    plan = draw(st.sampled_from(PLANS[model_id]))
    cluster = resolve_cluster(draw(st.sampled_from(CLUSTERS)))
    w = dict(
        prompt_tokens=draw(st.integers(16, 32768)),
        output_tokens=draw(st.integers(1, 4096)),
        batch_size=draw(st.integers(1, 512)),
        dtype=draw(st.sampled_from(["bf16", "fp8", "int4"])),
        kv_dtype=draw(st.sampled_from(["bf16", "fp8"])),
        phase="decode",
    )
    return catalog.load_model(model_id), cluster, plan, w


@SETTINGS
@given(setups(), st.floats(1.01, 8.0))
def test_longer_context_never_speeds_decode(setup, factor):
    m, cluster, plan, w = setup
    short = predict_inference(m, cluster, plan, InferenceWorkload(**w, avg_context_tokens=1000))
    long = predict_inference(
        m, cluster, plan, InferenceWorkload(**w, avg_context_tokens=int(1000 * factor))
    )
    assert long.tpot_s >= short.tpot_s


@SETTINGS
@given(setups(), st.floats(1.01, 4.0))
def test_more_hbm_bandwidth_never_slows_decode(setup, factor):
    m, cluster, plan, w = setup
    acc = cluster.accelerator
    faster = cluster.model_copy(
        update={
            "accelerator": acc.model_copy(
                update={"hbm_bandwidth_bytes_per_s": acc.hbm_bandwidth_bytes_per_s * factor}
            )
        }
    )
    base = predict_inference(m, cluster, plan, InferenceWorkload(**w))
    more = predict_inference(m, faster, plan, InferenceWorkload(**w))
    assert more.tpot_s <= base.tpot_s


@SETTINGS
@given(setups(), st.floats(1.01, 16.0))
def test_more_network_bandwidth_never_slows_decode(setup, factor):
    m, cluster, plan, w = setup
    net = cluster.scale_out
    if net is None:
        return
    faster = cluster.model_copy(
        update={
            "scale_out": net.model_copy(update={"nic_bytes_per_s": net.nic_bytes_per_s * factor})
        }
    )
    assert (
        predict_inference(m, faster, plan, InferenceWorkload(**w)).tpot_s
        <= predict_inference(m, cluster, plan, InferenceWorkload(**w)).tpot_s
    )


@SETTINGS
@given(setups(), st.floats(0.0, 0.5))
def test_max_concurrency_fits_in_free_memory(setup, fragmentation):
    m, cluster, plan, w = setup
    d = make_deployment(
        m, cluster, plan, InferenceWorkload(**w, kv_fragmentation_frac=fragmentation)
    )
    kv, lay = d.kv, d.layout
    per_device_sequences = kv.max_concurrency_per_instance / lay.attn_dp
    assert per_device_sequences * kv.kv_bytes_per_sequence_per_device <= kv.free_bytes_per_device
    assert (
        per_device_sequences + 1
    ) * kv.kv_bytes_per_sequence_per_device > kv.free_bytes_per_device
    assert (
        kv.weight_bytes_per_device + kv.free_bytes_per_device
        <= 0.9 * cluster.accelerator.hbm_bytes + 1
        or (kv.free_bytes_per_device == 0)
    )
