"""The training model against hand-derived numbers: Korthikanti et al. 2022 Table 2 activations,
ZeRO-3 collectives, the launch bound, the default micro-batch and TPU pods."""

from __future__ import annotations

import pytest

from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.train.plan_arrays import from_plans
from scalelab.perf.train.predict import predict_train
from scalelab.perf.train.step import evaluate_step

# Megatron-22B (Korthikanti et al. 2022 Table 3): s = 2048, b = 4, h = 6144, a = 64, t = 8
GPT22B = ModelSpec(
    arch="gpt",
    num_layers=48,
    hidden_size=6144,
    num_attention_heads=64,
    ffn_hidden_size=24576,
    vocab_size=51200,
    activation="gelu",
    tied_embeddings=True,
)
A100X8 = resolve_cluster("a100x8")
WL22 = TrainWorkload(global_batch_size=4, seq_len=2048)
SBH = 2048 * 4 * 6144
AS_H = 5 * 64 * 2048 / 6144  # the 5as/h attention-score term


def _layer_bytes(recompute: str, sp: bool) -> float:
    plan = ParallelPlan(tp=8, dp=1, schedule="none", recompute=recompute, sequence_parallel=sp)
    p = predict_train(Scenario(GPT22B, A100X8, plan, WL22))
    return (
        sum(
            v
            for k, v in p.activation_breakdown_bytes.items()
            if k != "embedding_head_and_working_set"
        )
        / GPT22B.num_layers
    )


@pytest.mark.parametrize(
    ("recompute", "sp", "per_sbh"),
    [
        ("none", False, 10 + 24 / 8 + AS_H / 8),  # tensor parallel
        ("none", True, (34 + AS_H) / 8),  # tensor + sequence parallel
        ("selective", False, 10 + 24 / 8),  # tensor parallel + selective recompute
        ("selective", True, 34 / 8),  # tensor + sequence parallel + selective recompute
        ("full", False, 2.0),  # the layer input only
        ("full", True, 2.0 / 8),
    ],
)
def test_layer_activations_follow_korthikanti_table_2(recompute, sp, per_sbh):
    assert _layer_bytes(recompute, sp) == pytest.approx(per_sbh * SBH, rel=1e-9)


def test_selective_sp_22b_fits_with_the_profiled_activations():
    """Korthikanti et al. 2022 Fig. 1: 9.56 GiB of activations and 45.6 GiB of parameters and
    optimizer state for the 22B model with sequence parallelism and selective recompute."""
    plan = ParallelPlan(tp=8, dp=1, schedule="none", recompute="selective", sequence_parallel=True)
    p = predict_train(Scenario(GPT22B, A100X8, plan, WL22.model_copy(update={})))
    layers = (
        p.memory_breakdown_bytes["activations"]
        - (p.activation_breakdown_bytes["embedding_head_and_working_set"])
    )
    assert layers / 2**30 == pytest.approx(9.5625, rel=0.01)
    states = sum(p.memory_breakdown_bytes[k] for k in ("weights", "gradients", "optimizer_states"))
    assert states / 2**30 == pytest.approx(45.5625, rel=0.02)
    assert p.fits_in_memory


def _z3(n: int, flags: tuple[str, ...] = (), mb: int | None = None) -> tuple[float, float]:
    m = ModelSpec(
        num_layers=24, hidden_size=2048, num_attention_heads=16, ffn_hidden_size=8192,
        vocab_size=32000,
    )  # fmt: skip
    cluster = resolve_cluster(f"a100x{n}")
    wl = TrainWorkload(global_batch_size=n * 4, seq_len=2048)
    plan = ParallelPlan(
        dp=n, zero_stage=3, schedule="none", microbatch_size=mb, optimizations=list(flags)
    )
    st = evaluate_step(m, cluster, wl, from_plans([plan], m, n, wl.global_batch_size))
    return float(st.dp_comm_total_s[0]), float(st.breakdown_s["dp_comm"][0])


def test_zero3_regathers_every_micro_batch_unless_told_to_keep():
    regather, _ = _z3(64, mb=1)  # 4 micro-batches, each gathers forward and backward
    no_fwd, _ = _z3(64, ("no-reshard-after-forward",), mb=1)
    keep, _ = _z3(64, ("no-reshard-after-backward",), mb=1)
    one, _ = _z3(64)  # the default micro-batch: one per step
    assert keep < no_fwd < regather
    # 4 x (AG + AG + RS) vs 4 x (AG + RS) vs (AG + 4 RS), with AG and RS of equal bf16 size
    assert no_fwd / regather == pytest.approx(2 / 3, rel=1e-6)
    assert keep / regather == pytest.approx(5 / 12, rel=1e-6)
    assert one == pytest.approx(regather / 4, rel=1e-6)


def test_zero3_ring_latency_grows_with_the_data_parallel_group():
    """The same per-GPU work over 8x the GPUs: bandwidth per rank is nearly unchanged, the ring
    latency of each per-layer collective grows with the ranks, so more of it is exposed."""
    total_small, exposed_small = _z3(64)
    total_big, exposed_big = _z3(512)
    assert total_big > total_small
    assert exposed_big >= exposed_small


def _small_lm(mb: int | None, gb: int, opts: tuple[str, ...] = ()):
    m = ModelSpec(
        num_layers=12, hidden_size=768, num_attention_heads=12, ffn_hidden_size=3072,
        vocab_size=50304, activation="gelu",
    )  # fmt: skip
    cluster = resolve_cluster("h200-sxm-141gbx1")
    plan = ParallelPlan(schedule="none", microbatch_size=mb, optimizations=list(opts))
    return predict_train(
        Scenario(m, cluster, plan, TrainWorkload(global_batch_size=gb, seq_len=1024))
    )


def test_default_micro_batch_is_the_whole_local_batch():
    assert _small_lm(None, 16).num_micro_batches == 1
    assert _small_lm(1, 16).num_micro_batches == 16


def test_launch_overhead_only_binds_when_kernels_are_shorter_than_launches():
    eager_small, graphs_small = _small_lm(1, 1), _small_lm(1, 1, ("cuda-graphs",))
    assert eager_small.step_time_s > 1.2 * graphs_small.step_time_s  # 1024 tokens: launch-bound
    eager_big, graphs_big = _small_lm(16, 16), _small_lm(16, 16, ("cuda-graphs",))
    assert eager_big.step_time_s == pytest.approx(graphs_big.step_time_s, rel=0.02)


def test_a_tpu_pod_is_one_ici_torus_and_predicts():
    cluster = resolve_cluster("tpu-v5px2048")
    assert cluster.devices_per_node == 2048 and cluster.scale_out is None
    assert cluster.accelerator.hbm_bytes == 95 * 2**30
    m = ModelSpec(
        num_layers=32, hidden_size=4096, num_attention_heads=32, num_key_value_heads=8,
        ffn_hidden_size=14336, vocab_size=128256,
    )  # fmt: skip
    plan = ParallelPlan(dp=512, tp=4, schedule="none", zero_stage=1)
    p = predict_train(
        Scenario(m, cluster, plan, TrainWorkload(global_batch_size=1024, seq_len=4096))
    )
    assert p.fits_in_memory and 0.2 < p.mfu < 0.8
    big = resolve_cluster("tpu-v5px8192")  # beyond the largest slice: slices joined by DCN
    assert big.devices_per_node == 4096 and big.scale_out is not None
