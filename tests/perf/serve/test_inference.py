"""Serving model (perf/inference*.py): hand-derived decode, EP, KV-capacity, MTP and cost figures."""

import math

import pytest

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.scenario import resolve_cluster, resolve_model
from scalelab.core.specs import InferenceWorkload, ParallelPlan
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS
from scalelab.perf.model.params import count_params
from scalelab.perf.serve.disagg import predict_disaggregated, split_cluster
from scalelab.perf.serve.kv import kv_shard_frac
from scalelab.perf.serve.predict import (
    evaluate_decode,
    make_deployment,
    predict_inference,
    tokens_per_step,
)

V3 = resolve_model("deepseek-v3")
LLAMA8 = resolve_model("llama-3.1-8b")
LLAMA70 = resolve_model("llama-3.1-70b")
H800_320 = resolve_cluster({"accelerator": "h800-sxm5-80gb", "num_devices": 320})
EP320 = ParallelPlan(ep=320, dual_microbatch_overlap=True, one_expert_per_device=True)
# Zhao et al. ISCA'25 Sec 2.3.2 setting: comm only, 32 tokens per device, 50 GB/s per device.
COMM_ONLY = dict(
    phase="decode",
    decode_tokens_per_device=32,
    ignore_compute=True,
    ignore_latency=True,
    scale_out_bandwidth_bytes_per_s=50e9,
)

# Hand derivation: 32 tokens x 9 copies x 7168 values x (1 B fp8 + 4 B / 128 scale + 2 B bf16 combine),
# of which (320 - 8) / 320 leave the node (the 7 node peers go over NVLink in parallel), at 50 GB/s.
EP_IB_S = 32 * 9 * 7168 * (1 + 4 / 128 + 2) * (312 / 320) / 50e9


def test_ep_comm_per_layer_step_hand_derivation():
    r = predict_inference(V3, H800_320, EP320, InferenceWorkload(**COMM_ONLY))
    assert r.ep_comm_s_per_layer_step == pytest.approx(EP_IB_S, rel=1e-9)
    assert r.tpot_s == pytest.approx(2 * 61 * EP_IB_S, rel=1e-9)  # two micro-batches x 61 layers
    assert r.tokens_per_s_per_request == pytest.approx(1 / (2 * 61 * EP_IB_S), rel=1e-9)


def test_dense_ffn_local_drops_ep_from_the_three_dense_layers():
    plan = EP320.model_copy(update={"optimizations": ["dense-ffn-local"]})
    r = predict_inference(V3, H800_320, plan, InferenceWorkload(**COMM_ONLY))
    assert r.tpot_s == pytest.approx(2 * 58 * EP_IB_S, rel=1e-9)


def test_shared_expert_local_sends_eight_copies():
    plan = ParallelPlan(ep=320, dual_microbatch_overlap=True, optimizations=["shared-expert-local"])
    r = predict_inference(V3, H800_320, plan, InferenceWorkload(**COMM_ONLY))
    assert r.ep_comm_s_per_layer_step == pytest.approx(EP_IB_S * 8 / 9, rel=1e-9)


def test_without_overlap_a_layer_pays_one_microbatch_of_comm():
    plan = EP320.model_copy(update={"dual_microbatch_overlap": False})
    r = predict_inference(V3, H800_320, plan, InferenceWorkload(**COMM_ONLY))
    assert r.tpot_s == pytest.approx(61 * EP_IB_S, rel=1e-9)


def test_achievable_bandwidth_and_latency_slow_the_real_network():
    real = predict_inference(
        V3,
        H800_320,
        EP320,
        InferenceWorkload(phase="decode", decode_tokens_per_device=32, ignore_compute=True),
    )
    # 80% of 50 GB/s achievable (perf/comm.py) plus 5 us + 1 us latency per phase
    assert real.ep_comm_s_per_layer_step == pytest.approx(
        EP_IB_S / 0.8 + 2 * (5e-6 + 1e-6), rel=1e-6
    )


def test_dense_decode_on_one_h200_is_memory_bound():
    h200 = resolve_cluster("h200-sxm-141gbx1")
    one = predict_inference(
        LLAMA8, h200, ParallelPlan(), InferenceWorkload(phase="decode", batch_size=1)
    )
    eight = predict_inference(
        LLAMA8, h200, ParallelPlan(), InferenceWorkload(phase="decode", batch_size=8)
    )
    weights_s = (
        count_params(LLAMA8).total * 2 / 4.8e12
    )  # all weights streamed once at the datasheet bandwidth
    fitted_s = weights_s / H200_KERNEL_PARAMS.gemm_memory_frac  # ... at the fitted cuBLAS fraction
    assert one.decode_bound == "memory"
    assert weights_s < one.tpot_s
    assert 0.9 * fitted_s < one.tpot_s < 1.2 * fitted_s
    assert eight.tpot_s < 1.10 * one.tpot_s  # 8x the tokens for <10% more time


def test_weights_and_kv_capacity_of_llama70b_tp8():
    h200x8 = resolve_cluster("h200-sxm-141gbx8")
    d = make_deployment(
        LLAMA70,
        h200x8,
        ParallelPlan(tp=8),
        InferenceWorkload(prompt_tokens=1024, output_tokens=256),
    )
    assert d.kv.weight_bytes_per_device == pytest.approx(
        count_params(LLAMA70).total * 2 / 8, rel=1e-3
    )
    per_seq = (
        1280 * (2 * 8 * 128 * 2) * 80 / 8
    )  # tokens x K+V of 8 heads x 128 dims x bf16 x layers / tp
    assert d.kv.kv_bytes_per_sequence_per_device == pytest.approx(per_seq)
    hbm = h200x8.accelerator.hbm_bytes  # 143771 MiB (nvidia-smi), the datasheet's "141GB"
    expected = math.floor((0.9 * hbm - d.kv.weight_bytes_per_device) / per_seq)
    assert d.kv.max_concurrency_per_instance == expected


def test_kv_sharding_rules():
    assert kv_shard_frac(LLAMA70, 4) == 0.25
    assert kv_shard_frac(LLAMA70, 16) == 1 / 8  # a KV head is replicated once tp > kv heads
    assert kv_shard_frac(V3, 4) == 1.0  # MLA latent is not split by heads


def test_mtp_tokens_per_step():
    w = InferenceWorkload(mtp_acceptance=0.85)
    assert tokens_per_step(V3, w) == pytest.approx(1.85)
    assert tokens_per_step(V3.model_copy(update={"mtp_depth": 2}), w) == pytest.approx(
        1 + 0.85 + 0.85**2
    )
    assert tokens_per_step(LLAMA8, w) == 1.0  # no MTP modules


def test_mtp_raises_tokens_per_request_about_1_8x():
    """DeepSeek-V3 TR Sec 5.4.3: 85-90% acceptance gives 1.8x tokens per second."""
    base = dict(phase="decode", decode_tokens_per_device=32, dtype="fp8")
    plain = predict_inference(V3, H800_320, EP320, InferenceWorkload(**base))
    mtp = predict_inference(V3, H800_320, EP320, InferenceWorkload(**base, mtp_acceptance=0.85))
    assert 1.5 < mtp.tokens_per_s_per_request / plain.tokens_per_s_per_request < 1.85


def test_decode_step_is_vectorized_over_batches():
    d = make_deployment(LLAMA8, resolve_cluster("h200x1"), ParallelPlan(), InferenceWorkload())
    ev = evaluate_decode(d, [1, 4, 16])
    single = [float(evaluate_decode(d, b).step.step_s) for b in (1, 4, 16)]
    assert list(ev.step.step_s) == pytest.approx(single)


def test_cost_per_million_tokens():
    h200 = resolve_cluster("h200x1")
    r = predict_inference(
        LLAMA8, h200, ParallelPlan(), InferenceWorkload(phase="decode", batch_size=32)
    )
    rate = 32 / r.tpot_s  # tokens/s of the only device
    assert r.output_tokens_per_s_per_node == pytest.approx(rate)
    assert r.usd_per_million_output_tokens == pytest.approx(
        2.5 * 1e6 / (3600 * rate)
    )  # catalog $2.5/h
    assert r.joules_per_token is not None
    assert r.joules_per_token > 79.64 * r.tpot_s / 32  # never below idle power x time per token


def test_prefix_cache_hits_cut_ttft():
    h200 = resolve_cluster("h200x1")
    cold = predict_inference(
        LLAMA8,
        h200,
        ParallelPlan(),
        InferenceWorkload(prompt_tokens=8192, phase="prefill", tokens_per_device=8192),
    )
    warm = predict_inference(  # one prompt per pass in both: 2,048 uncached tokens
        LLAMA8,
        h200,
        ParallelPlan(),
        InferenceWorkload(
            prompt_tokens=8192, phase="prefill", kv_cache_hit_frac=0.75, tokens_per_device=2048
        ),
    )
    assert warm.ttft_s < 0.5 * cold.ttft_s


@pytest.mark.parametrize(
    ("model", "plan", "words"),
    [
        (LLAMA8, ParallelPlan(ep=2), "dense"),
        (V3, ParallelPlan(tp=4, ep=6), "multiple of tp"),
        (LLAMA70, ParallelPlan(tp=3), "heads"),
        (LLAMA70, ParallelPlan(tp=8, pp=16), "exceed"),
        (V3, ParallelPlan(ep=64, one_expert_per_device=True), "ep >="),
    ],
)
def test_impossible_plans_say_why(model, plan, words):
    with pytest.raises(InfeasiblePlan, match=words):
        predict_inference(model, resolve_cluster("h800x64"), plan, InferenceWorkload())


def test_disaggregated_rate_is_the_slower_pool():
    cluster = resolve_cluster({"accelerator": "h800-sxm5-80gb", "num_devices": 352})
    pre, dec = split_cluster(cluster, 32)
    w = InferenceWorkload(
        prompt_tokens=2048, output_tokens=512, dtype="fp8", decode_tokens_per_device=32
    )
    r = predict_disaggregated(
        V3,
        pre,
        ParallelPlan(tp=4, ep=32, dual_microbatch_overlap=True),
        dec,
        ParallelPlan(tp=4, ep=320, dual_microbatch_overlap=True, one_expert_per_device=True),
        w,
    )
    decode_rate = r.decode.output_tokens_per_s_per_node * 40
    prefill_rate = r.prefill.input_tokens_per_s_per_node * 4 / (2048 / 512)
    assert r.output_tokens_per_s == pytest.approx(min(decode_rate, prefill_rate))
    assert r.system_output_tokens_per_s_per_device * 352 == pytest.approx(r.output_tokens_per_s)
    # each pool's own rate, as DeepSeek and SGLang report a disaggregated deployment
    assert r.output_tokens_per_s_per_node == pytest.approx(r.decode.output_tokens_per_s_per_node)
    assert r.input_tokens_per_s_per_node == pytest.approx(r.prefill.input_tokens_per_s_per_node)
    # KV handoff: 2048 tokens x 70,272 B (MLA) from each prefill device at 80% of 50 GB/s, plus 5 us
    assert r.kv_transfer_s == pytest.approx(2048 * 70272 / 40e9 + 5e-6, rel=1e-6)
    assert r.ttft_s == pytest.approx(r.prefill.ttft_s + r.kv_transfer_s)
    assert r.usd_per_million_output_tokens == pytest.approx(
        2.0 * 352 * 1e6 / 3600 / r.output_tokens_per_s
    )
