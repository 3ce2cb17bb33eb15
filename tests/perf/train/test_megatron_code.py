"""What Megatron-LM's code does around the layers, against hand-derived numbers: the LM head is not
recomputed, tied embeddings are synchronized between the end stages, fp16 reduces fp16 gradients,
the 2021 code's synchronous TP backward and unfused gradient accumulation, the unfused loss."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.comm import all_reduce_time_s, comm_tiers
from scalelab.perf.kernels.timing import memory_bound_time_s
from scalelab.perf.train.layers import attention_block, dense_ffn_block, head_block
from scalelab.perf.train.ops import make_context
from scalelab.perf.train.passes import layer_times, pass_times
from scalelab.perf.train.plan_arrays import from_plans
from scalelab.perf.train.predict import predict_train
from scalelab.perf.train.step import evaluate_step

GPT = ModelSpec(
    arch="gpt", num_layers=8, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=16384,
    vocab_size=51200, activation="gelu", tied_embeddings=True,
)  # fmt: skip
A100X16 = resolve_cluster("a100x16")


def _ctx(plans: list[ParallelPlan], model: ModelSpec = GPT, batch: int = 8):
    p = from_plans(plans, model, A100X16.num_devices, batch)
    return make_context(model, A100X16.accelerator, comm_tiers(A100X16), p, 2048, True)


def _step(plan: ParallelPlan, model: ModelSpec = GPT, batch: int = 8):
    p = from_plans([plan], model, A100X16.num_devices, batch)
    return evaluate_step(model, A100X16, TrainWorkload(global_batch_size=batch, seq_len=2048), p)


def _plan(**kw) -> ParallelPlan:
    base = {"tp": 8, "pp": 2, "dp": 1, "microbatch_size": 1, "sequence_parallel": False}
    return ParallelPlan(**{**base, **kw})


def test_full_recompute_reruns_the_layers_but_not_the_lm_head():
    ctx = _ctx([_plan(recompute="full"), _plan(recompute="none")])
    head = pass_times(head_block(ctx), ctx, checkpointed=False)
    layer = layer_times(attention_block(ctx), dense_ffn_block(ctx, 16384), ctx)
    assert head.b[0] == head.b[1]
    assert layer.b[0] == pytest.approx(layer.b[1] + layer.f[1], rel=1e-9)


def test_tied_embeddings_all_reduce_their_gradient_between_the_end_stages():
    """pp = 2 over two 8-GPU nodes: the first and last stage hold one copy each of the
    (51200 / 8) x 4096 embedding; after the flush its fp32 gradient is all-reduced between them."""
    tied = float(_step(_plan()).breakdown_s["dp_comm"][0])
    untied = float(
        _step(_plan(), GPT.model_copy(update={"tied_embeddings": False})).breakdown_s["dp_comm"][0]
    )
    expected = all_reduce_time_s(51200 / 8 * 4096 * 4.0, 2, 1, comm_tiers(A100X16))
    assert untied == 0.0
    assert tied == pytest.approx(float(expected), rel=1e-9)


def test_fp16_reduces_half_the_gradient_bytes_and_pays_for_loss_scaling():
    plan = {"tp": 8, "pp": 1, "dp": 2, "microbatch_size": 4, "schedule": "none"}
    bf16, fp16 = (_step(ParallelPlan(**plan, precision=d)) for d in ("bf16", "fp16"))
    assert float(fp16.breakdown_s["dp_comm"][0]) == pytest.approx(
        0.5 * float(bf16.breakdown_s["dp_comm"][0]), rel=0.02
    )  # bandwidth-bound ring: half the bytes, the same per-step latency
    assert float(fp16.breakdown_s["optimizer"][0]) > float(bf16.breakdown_s["optimizer"][0])


def test_without_async_tp_every_backward_collective_waits():
    """Non-SP, no recompute: the backward all-reduces the input gradient of both column-parallel
    GEMMs (QKV, FC1), the same volume the forward all-reduces after the row-parallel ones."""
    ctx = _ctx([_plan(optimizations=["no-async-tp-allreduce"]), _plan()])
    layer = layer_times(attention_block(ctx), dense_ffn_block(ctx, 16384), ctx)
    assert layer.tp_b[0] == pytest.approx(layer.tp_f[0], rel=1e-9)
    assert layer.tp_b[1] < 0.5 * layer.tp_f[1]  # async: hidden behind the weight gradients


def test_unfused_gradient_accumulation_costs_a_pass_per_micro_batch():
    """(2 x 4 + 2) B per held parameter per micro-batch in bf16 (fp32 buffer read and written, the
    bf16 gradient read), (2 x 2 + 2) in fp16: 6/10 of it in fp16. It lengthens every stage's
    weight-gradient pass, so 1F1B pays it m + p - 1 times (m micro-batches, p - 1 in the bubble)."""
    flag = ["no-grad-accumulation-fusion"]

    def extra(batch: int, precision: str) -> float:
        on = _step(_plan(precision=precision, optimizations=flag), batch=batch)
        off = _step(_plan(precision=precision), batch=batch)
        return float(on.step_time_s[0] - off.step_time_s[0])

    assert extra(16, "bf16") == pytest.approx((16 + 1) / (8 + 1) * extra(8, "bf16"), rel=0.02)
    assert extra(8, "fp16") == pytest.approx(0.6 * extra(8, "bf16"), rel=0.02)


def test_megatron_gpt_computes_its_loss_with_unfused_kernels():
    """Per logit, forward: cast 6, max 4, subtract 8, exp 8, sum 4, divide 8 bytes; backward:
    scale 8 + cast 6 (Megatron-LM mpu/cross_entropy.py); fused: 6 each way."""
    llama = GPT.model_copy(update={"arch": "llama"})
    plan = _plan()
    gpt_head = pass_times(head_block(_ctx([plan])), _ctx([plan]), checkpointed=False)
    ctx_l = _ctx([plan], llama)
    fused = pass_times(head_block(ctx_l), ctx_l, checkpointed=False)
    acc, logits = A100X16.accelerator, 2048 * 51200 / 8
    mem = lambda b, op: float(memory_bound_time_s(logits * b, acc, op))  # noqa: E731
    unfused_f = mem(6, "add") + mem(4, "norm") + 2 * mem(8, "add") + mem(4, "norm") + mem(8, "add")
    assert float(gpt_head.c_f[0] - fused.c_f[0]) == pytest.approx(
        unfused_f - mem(6, "softmax"), rel=1e-9
    )
    assert float(gpt_head.c_b[0] - fused.c_b[0]) == pytest.approx(
        mem(14, "add") - mem(6, "softmax"), rel=1e-9
    )


def test_a_collective_of_nothing_costs_nothing():
    assert float(all_reduce_time_s(0.0, 8, 8, comm_tiers(A100X16))) == 0.0
    assert np.all(all_reduce_time_s(np.array([0.0, 1e6]), 8, 8, comm_tiers(A100X16)) >= 0)


def test_the_2021_flags_round_trip_through_a_plan():
    plan = _plan(
        precision="fp16", optimizations=["no-async-tp-allreduce", "no-grad-accumulation-fusion"]
    )
    back = from_plans([plan], GPT, 16, 8).plan(0)
    assert back.precision == "fp16"
    assert set(back.optimizations) == set(plan.optimizations)
    assert predict_train(
        Scenario(GPT, A100X16, plan, TrainWorkload(global_batch_size=8, seq_len=2048))
    )
