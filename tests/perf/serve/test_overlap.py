"""One layer's time with and without two-micro-batch overlap (perf/serve/overlap.py), by hand."""

import numpy as np
import pytest

from scalelab.core import catalog
from scalelab.perf.serve.ep import EpComm
from scalelab.perf.serve.overlap import (
    HT_COMM_SMS,
    LL_SM_S_PER_COPY,
    compute_slowdown,
    glue_s,
    layer_time_s,
)

H800 = catalog.load_accelerator("h800-sxm5-80gb")


def ep(dispatch, combine):
    return EpComm(np.array(dispatch), np.array(combine), np.array(0.0))


def a(x):
    return np.array(float(x))


def test_without_overlap_everything_adds_up():
    layer, busy = layer_time_s(a(3), a(4), a(1), ep(2, 5), False, "low-latency", H800, a(100))
    assert float(layer) == pytest.approx(3 + 4 + 1 + 2 + 5)
    assert float(busy) == pytest.approx(8)


def test_overlap_pairs_attention_with_dispatch_and_experts_with_combine():
    copies = a(128 * 8)
    layer, _ = layer_time_s(
        a(3e-4), a(2e-4), a(0), ep(1e-4, 5e-4), True, "low-latency", H800, copies
    )
    sm = LL_SM_S_PER_COPY * 128 * 8  # 0.06 ms of SM time on each side
    assert float(layer) == pytest.approx(2 * (max(3e-4 + sm, 1e-4) + max(2e-4 + sm, 5e-4)))


def test_comm_only_overlap_is_twice_dispatch_plus_combine():
    """Zhao et al.'s arithmetic: no compute, no SM time."""
    layer, _ = layer_time_s(a(0), a(0), a(0), ep(1e-4, 2e-4), True, "low-latency", H800, a(5000))
    assert float(layer) == pytest.approx(2 * 3e-4)


def test_high_throughput_kernels_take_sms_from_overlapped_compute():
    slow = compute_slowdown(H800, "high-throughput")
    assert slow == pytest.approx(132 / (132 - HT_COMM_SMS))
    assert compute_slowdown(H800, "low-latency") == 1.0
    layer, _ = layer_time_s(a(4), a(6), a(0), ep(1, 1), True, "high-throughput", H800, a(0))
    assert float(layer) == pytest.approx(2 * (4 * slow + 6 * slow))


def test_glue_is_only_for_the_contiguous_layout():
    rows = np.array(1000.0)
    assert float(glue_s(H800, rows, 7168, "fp8", "low-latency")) == 0.0
    assert float(glue_s(H800, rows, 7168, "fp8", "high-throughput")) > 0.0


def test_no_ep_layer_with_overlap_runs_both_micro_batches_back_to_back():
    layer, busy = layer_time_s(a(3), a(4), a(1), None, True, "low-latency", H800, a(0))
    assert float(layer) == pytest.approx(2 * 8) and float(busy) == pytest.approx(16)
