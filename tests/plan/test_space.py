"""The plan space covers the published plans and respects its own restrictions."""

from __future__ import annotations

import numpy as np

from scalelab.core.catalog import load_model
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import TrainWorkload
from scalelab.perf.train.plan_arrays import SCHED_DUALPIPE, SCHED_NONE
from scalelab.plan.space import enumerate_plans


def test_deepseek_published_plan_is_in_the_space():
    p = enumerate_plans(
        load_model("deepseek-v3"),
        resolve_cluster("h800x2048"),
        TrainWorkload(global_batch_size=15360, seq_len=4096, dtype="fp8"),
    )
    hit = (
        (p.pp == 16)
        & (p.ep == 64)
        & (p.tp == 1)
        & (p.cp == 1)
        & (p.zero == 1)
        & (p.schedule == SCHED_DUALPIPE)
        & (p.microbatch == 1)
        & p.fp8
    )
    assert hit.any()
    assert np.all(p.dp * p.tp * p.pp * p.cp == 2048)
    assert np.all((p.pp == 1) == (p.schedule == SCHED_NONE))
    assert np.all((p.pp == 1) | (p.zero <= 1))


def test_no_fp8_unless_asked_or_supported():
    m = load_model("llama-3.1-8b")
    assert not enumerate_plans(
        m, resolve_cluster("h100x64"), TrainWorkload(global_batch_size=64, seq_len=4096)
    ).fp8.any()
    assert not enumerate_plans(
        m,
        resolve_cluster("a100x64"),
        TrainWorkload(global_batch_size=64, seq_len=4096, dtype="fp8"),
    ).fp8.any()
