"""The batch each phase runs at when the workload gives none (perf/serve/operating.py, evaluate.py):
the largest batch within the latency target, and the curve it was read from."""

import numpy as np
import pytest

from scalelab.core.scenario import resolve_cluster, resolve_model
from scalelab.core.specs import InferenceWorkload, ParallelPlan
from scalelab.perf.serve.evaluate import decode_point, evaluate_decode, prefill_point
from scalelab.perf.serve.operating import (
    DEFAULT_TPOT_TARGET_S,
    OperatingPoint,
    batch_grid,
    choose,
    display_rows,
)
from scalelab.perf.serve.predict import make_deployment, predict_inference

LLAMA8 = resolve_model("llama-3.1-8b")
V3 = resolve_model("deepseek-v3")
H100 = resolve_cluster("h100x1")


def test_batch_grid_doubles_and_ends_at_the_limit():
    assert list(batch_grid(2, 20)) == [2, 4, 8, 16, 20]
    assert batch_grid(4, 3).size == 0
    fine = batch_grid(8, 1000, steps_per_octave=4)
    assert fine[0] == 8 and fine[-1] == 1000
    assert np.all(np.diff(fine) > 0)
    assert np.all((fine % 8 == 0) | (fine == 1000))  # whole multiples of the smallest batch


def test_choose_takes_the_largest_batch_within_the_target():
    grid = np.array([1.0, 2.0, 4.0, 8.0])
    lat = np.array([0.01, 0.02, 0.04, 0.08])
    op = choose("decode", grid, lat, grid * 10, 0.05, True, "limit")
    assert op.batch == 4 and op.source == "slo" and "<= 50 ms (workload target)" in op.reason


def test_choose_falls_back_to_the_fastest_and_says_so():
    grid = np.array([1.0, 2.0])
    op = choose("decode", grid, np.array([0.2, 0.3]), grid, 0.05, False, "limit")
    assert op.batch == 1 and op.source == "fastest" and "no batch meets" in op.reason


def test_decode_without_batch_meets_the_default_tpot_target():
    d = make_deployment(LLAMA8, H100, ParallelPlan(), InferenceWorkload(phase="decode"))
    op = decode_point(d)
    i = int(np.flatnonzero(op.curve_batch == op.batch)[0])
    assert op.curve_latency_s[i] <= DEFAULT_TPOT_TARGET_S
    if i + 1 < op.curve_batch.size:  # the next batch on the curve would miss the target
        assert op.curve_latency_s[i + 1] > DEFAULT_TPOT_TARGET_S
    assert op.batch <= d.kv.max_concurrency_per_instance


def test_tighter_target_gives_a_smaller_batch_and_lower_tpot():
    loose = predict_inference(
        LLAMA8, H100, ParallelPlan(), InferenceWorkload(phase="decode", tpot_target_s=0.05)
    )
    tight = predict_inference(
        LLAMA8, H100, ParallelPlan(), InferenceWorkload(phase="decode", tpot_target_s=0.02)
    )
    assert tight.concurrency_per_replica < loose.concurrency_per_replica
    assert tight.tpot_s <= 0.02 < loose.tpot_s <= 0.05
    assert tight.decode_point is not None and tight.decode_point.target_s == 0.02


def test_curve_matches_evaluate_decode():
    d = make_deployment(LLAMA8, H100, ParallelPlan(), InferenceWorkload(phase="decode"))
    op = decode_point(d)
    direct = evaluate_decode(d, op.curve_batch)
    assert np.allclose(op.curve_latency_s, direct.tpot_s)


def test_a_fixed_batch_is_kept_and_labelled():
    r = predict_inference(LLAMA8, H100, ParallelPlan(), InferenceWorkload(batch_size=24))
    assert r.concurrency_per_replica == 24 and r.decode_point.source == "workload"
    assert "batch_size = 24" in r.decode_point.reason


def test_prefill_without_batch_meets_the_ttft_target_up_to_16k_tokens():
    w = InferenceWorkload(phase="prefill", prompt_tokens=1024, ttft_target_s=0.5)
    d = make_deployment(LLAMA8, H100, ParallelPlan(), w)
    op = prefill_point(d)
    assert op.curve_batch.max() * 1024 <= 16384
    i = int(np.flatnonzero(op.curve_batch == op.batch)[0])
    assert op.curve_latency_s[i] <= 0.5
    r = predict_inference(LLAMA8, H100, ParallelPlan(), w)
    assert r.ttft_s == pytest.approx(op.curve_latency_s[i])


def test_slo_point_sets_per_request_speed_of_a_large_ep_unit():
    """With no batch, DeepSeek's EP144 unit runs near 20 tok/s per request, not at the KV limit."""
    cluster = resolve_cluster("h800x144")
    plan = ParallelPlan(tp=1, dp=144, ep=144)
    w = InferenceWorkload(phase="decode", prompt_tokens=4096, output_tokens=1024)
    slo = predict_inference(V3, cluster, plan, w)
    at_limit = predict_inference(
        V3, cluster, plan, w.model_copy(update={"batch_size": slo.kv.max_concurrency_per_instance})
    )
    assert 20.0 <= slo.tokens_per_s_per_request < 21.0  # TPOT just under the 50 ms default
    assert slo.concurrency_per_replica < at_limit.concurrency_per_replica
    assert at_limit.tokens_per_s_per_request < 0.8 * slo.tokens_per_s_per_request


def test_display_rows_keep_each_doubling_and_the_choice():
    grid = batch_grid(1, 64, steps_per_octave=4)
    op = OperatingPoint("decode", float(grid[5]), "slo", "", 0.05, grid, grid, grid)
    rows = display_rows(op)
    shown = grid[rows]
    assert {1, 2, 4, 8, 16, 32, 64} <= set(shown) and grid[5] in shown
