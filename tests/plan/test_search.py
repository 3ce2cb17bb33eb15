"""The planner: every returned plan fits and is valid, the vectorized path equals `predict train`,
rejections are counted by reason, nothing-fits gives a one-line answer, the Pareto front is sound."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.catalog import load_model
from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import TrainWorkload
from scalelab.perf.train.predict import predict_train
from scalelab.plan.search import pareto_front, search_train, states_lower_bound_bytes
from scalelab.plan.space import enumerate_plans

DSV3 = load_model("deepseek-v3")
WL = TrainWorkload(global_batch_size=15360, seq_len=4096, train_tokens=14.8e12, dtype="fp8")


@pytest.fixture(scope="module")
def dsv3_search():
    return search_train(DSV3, resolve_cluster("h800x2048"), WL, "time", top=5, scale_down=1)


def test_returned_plans_fit_and_multiply_to_the_device_count(dsv3_search):
    assert dsv3_search.plans
    for p in dsv3_search.plans + dsv3_search.pareto:
        plan = p.prediction.plan
        assert plan.dp * plan.tp * plan.pp * plan.cp == p.num_devices
        assert p.prediction.fits_in_memory


def test_planner_path_equals_predict_train(dsv3_search):
    for p in dsv3_search.plans[:3]:
        cluster = resolve_cluster({"accelerator": "h800-sxm5-80gb", "num_devices": p.num_devices})
        single = predict_train(Scenario(DSV3, cluster, p.prediction.plan, WL))
        assert single.step_time_s == pytest.approx(p.prediction.step_time_s, rel=1e-9)
        assert single.memory_per_device_bytes == pytest.approx(
            p.prediction.memory_per_device_bytes, rel=1e-9
        )


def test_ranking_and_counts(dsv3_search):
    times = [p.time_s_per_token for p in dsv3_search.plans]
    assert times == sorted(times)
    assert dsv3_search.num_rejected_by_reason["memory"] > 0
    assert dsv3_search.num_evaluated <= dsv3_search.num_candidates
    assert any("winner" in line for line in dsv3_search.explanation)


def test_pareto_front_is_not_dominated():
    t = np.array([1.0, 2.0, 3.0, 1.5, 2.5])
    c = np.array([5.0, 3.0, 1.0, 6.0, 3.5])
    assert pareto_front(t, c) == [0, 1, 2]


def test_nothing_fits_gives_the_smallest_shortfall():
    r = search_train(
        DSV3, resolve_cluster("h800x64"), TrainWorkload(global_batch_size=1024, seq_len=4096)
    )
    assert not r.plans
    assert r.no_fit_message.startswith("no plan fits: smallest memory shortfall is ")
    assert "GiB per device with plan TP" in r.no_fit_message


def test_lower_bound_never_exceeds_full_memory():
    cluster = resolve_cluster("h800x2048")
    plans = enumerate_plans(DSV3, cluster, WL)
    sample = plans.take(np.arange(0, plans.size, max(1, plans.size // 300)))
    from scalelab.perf.train.plan_check import check_codes
    from scalelab.perf.train.predict import evaluate_train

    ok = sample.take(check_codes(DSV3, WL, 2048, sample) == 0)
    full = evaluate_train(DSV3, cluster, WL, ok).step.memory.total_bytes
    assert np.all(states_lower_bound_bytes(DSV3, ok) <= full * (1 + 1e-9))
