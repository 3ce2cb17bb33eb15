"""Deployments written in the serving engines' vocabulary (perf/serve/layout.py): dp is attention
data parallelism inside an EP group (vLLM/SGLang), replicas are independent copies."""

import pytest

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.scenario import load_scenario, resolve_cluster, resolve_model
from scalelab.core.specs import InferenceWorkload, ParallelPlan
from scalelab.perf.serve.layout import describe_layout, layout_label, make_layout
from scalelab.perf.serve.predict import make_deployment, predict_inference

V3 = resolve_model("deepseek-v3")
LLAMA8 = resolve_model("llama-3.1-8b")
MIXTRAL = resolve_model("mixtral-8x7b")
DECODE = InferenceWorkload(
    phase="decode", prompt_tokens=4096, output_tokens=1024, batch_size=144 * 64
)


def _unit(devices: int) -> dict:
    return {
        "model": "deepseek-v3",
        "hardware": {"accelerator": "h800-sxm5-80gb", "num_devices": devices},
        "workload": {"phase": "decode", "prompt_tokens": 4096, "output_tokens": 1024},
    }


def test_deepseek_decode_unit_tp1_dp144_ep144_on_144_h800_predicts():
    sc = load_scenario({**_unit(144), "parallel": {"tp": 1, "dp": 144, "ep": 144}}, "infer")
    r = predict_inference(sc.model, sc.cluster, sc.plan, sc.workload)
    lay = r.layout
    assert (lay.tp, lay.attn_dp, lay.ep, lay.instance_devices, lay.replicas) == (
        1,
        144,
        144,
        144,
        1,
    )
    assert lay.idle_devices == 0 and r.fits_in_memory
    assert r.output_tokens_per_s_per_device > 0


def test_replicas_2_on_288_gpus_doubles_throughput():
    one = predict_inference(
        V3, resolve_cluster("h800x144"), ParallelPlan(tp=1, dp=144, ep=144), DECODE
    )
    two = predict_inference(
        V3, resolve_cluster("h800x288"), ParallelPlan(tp=1, dp=144, ep=144, replicas=2), DECODE
    )
    assert two.layout.replicas == 2 and two.layout.devices_used == 288
    assert two.output_tokens_per_s == pytest.approx(2 * one.output_tokens_per_s, rel=1e-9)
    assert two.output_tokens_per_s_per_device == pytest.approx(one.output_tokens_per_s_per_device)
    assert two.max_concurrency == 2 * one.max_concurrency


def test_dense_dp8_on_8_gpus_is_8_data_parallel_ranks():
    """vLLM -tp 1 -dp 8 on a model that fits one GPU: 8 independent ranks, not an error, fits."""
    cluster = resolve_cluster("h100x8")
    w = InferenceWorkload(phase="decode", batch_size=32)
    dp8 = predict_inference(LLAMA8, cluster, ParallelPlan(tp=1, dp=8), w)
    assert dp8.layout.replicas == 8 and dp8.layout.instance_devices == 1
    assert dp8.fits_in_memory and dp8.layout.idle_devices == 0
    single = predict_inference(LLAMA8, resolve_cluster("h100x1"), ParallelPlan(), w)
    assert dp8.tpot_s == pytest.approx(single.tpot_s)
    assert dp8.output_tokens_per_s == pytest.approx(8 * single.output_tokens_per_s)


def test_moe_dp_without_ep_shards_the_experts_over_dp_x_tp():
    """vLLM without --enable-expert-parallel: attention DP, experts TP over all dp x tp devices."""
    lay = make_layout(MIXTRAL, resolve_cluster("h100x8"), ParallelPlan(tp=2, dp=4))
    assert (lay.stage_devices, lay.attn_dp, lay.moe_tp, lay.ep) == (8, 4, 8, 1)
    d = make_deployment(
        MIXTRAL, resolve_cluster("h100x8"), ParallelPlan(tp=2, dp=4), InferenceWorkload()
    )
    tp8 = make_deployment(
        MIXTRAL, resolve_cluster("h100x8"), ParallelPlan(tp=8), InferenceWorkload()
    )
    # experts sharded 8 ways either way; attention weights 4x larger with TP2 than with TP8
    assert d.kv.weight_bytes_per_device > tp8.kv.weight_bytes_per_device


def test_expert_weights_are_tp_sharded_without_ep():
    one = make_deployment(
        MIXTRAL, resolve_cluster("h100x8"), ParallelPlan(tp=1), InferenceWorkload()
    )
    eight = make_deployment(
        MIXTRAL, resolve_cluster("h100x8"), ParallelPlan(tp=8), InferenceWorkload()
    )
    assert eight.kv.weight_bytes_per_device == pytest.approx(
        one.kv.weight_bytes_per_device / 8, rel=0.02
    )


def test_idle_devices_are_reported_and_paid():
    r = predict_inference(V3, resolve_cluster("h800x320"), ParallelPlan(tp=1, ep=144), DECODE)
    assert r.layout.replicas == 2 and r.layout.idle_devices == 32
    assert "32 device(s) idle" in describe_layout(r.layout)
    full = 2.0 * 320 / 288  # the price counts every device of the cluster
    paid = r.usd_per_million_output_tokens * 3600 * r.output_tokens_per_s_per_device / 1e6
    assert paid == pytest.approx(full)


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        (
            ParallelPlan(tp=1, dp=144, ep=144, replicas=2),
            "need 288 devices but the cluster has 144",
        ),
        (ParallelPlan(tp=1, dp=8, ep=16), "ep 16 must equal dp x tp = 8"),
        (ParallelPlan(tp=1, dp=288, ep=288), "exceeds the cluster's 144 devices"),
    ],
)
def test_inconsistent_degrees_say_how_to_write_them(plan, words):
    with pytest.raises(InfeasiblePlan, match=words):
        make_layout(V3, resolve_cluster("h800x144"), plan)


def test_layout_label_and_description():
    lay = make_layout(
        V3, resolve_cluster("h800x288"), ParallelPlan(tp=1, dp=144, ep=144, replicas=2)
    )
    assert layout_label(lay) == "tp1 dp144 ep144 x2"
    assert "attention TP1 x DP144, experts EP144" in describe_layout(lay)


def test_checkpoint_dtype_is_served_unless_the_workload_names_one():
    cluster = resolve_cluster("h800x144")
    plan = ParallelPlan(tp=1, dp=144, ep=144)
    fp8 = make_deployment(V3, cluster, plan, InferenceWorkload())
    bf16 = make_deployment(V3, cluster, plan, InferenceWorkload(dtype="bf16"))
    assert fp8.workload.dtype == "fp8" and bf16.workload.dtype == "bf16"
    assert bf16.kv.weight_bytes_per_device == pytest.approx(2 * fp8.kv.weight_bytes_per_device)
    llama = make_deployment(LLAMA8, resolve_cluster("h100x1"), ParallelPlan(), InferenceWorkload())
    assert llama.workload.dtype == "bf16"  # no checkpoint dtype in the catalog: bf16
