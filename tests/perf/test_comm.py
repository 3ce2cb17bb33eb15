"""Collective costs: ring formulas on one tier, hierarchical phases across nodes, all-to-all split."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.scenario import resolve_cluster
from scalelab.perf.comm import (
    CommTiers,
    all_gather_time_s,
    all_reduce_time_s,
    all_to_all_time_s,
    comm_tiers,
    expected_remote_nodes,
    group_layout,
    p2p_time_s,
)

T = CommTiers(
    up_bytes_per_s=100e9,
    up_latency_s=1e-6,
    out_bytes_per_s=10e9,
    out_latency_s=5e-6,
    devices_per_node=8,
)


# NCCL ring constants (tuning.cc): Simple protocol 8.4 us launch, 3.4 us per NVLink step, 9.6 us
# per network step; LL 3.6 / 0.47 / 2.7 us at a quarter of the bandwidth
SIMPLE, NVL, NET = 8.4e-6, 3.4e-6, 9.6e-6


def test_ring_all_reduce_inside_one_node():
    # 2 (p-1)/p S / B for p = 8, NCCL Simple latency: one launch, 2 (p-1) steps
    t = float(all_reduce_time_s(1e9, 8, 8, T))
    assert t == pytest.approx(2 * 7 / 8 * 1e9 / 100e9 + SIMPLE + 2 * 7 * NVL)


def test_small_messages_take_the_low_latency_protocol():
    t = float(all_reduce_time_s(16e3, 8, 8, T))  # a decode-sized all-reduce
    ll = 3.6e-6 + 2 * 7 * 0.47e-6 + 2 * 7 / 8 * 16e3 / (100e9 * 0.25)
    assert t == pytest.approx(ll)


def test_all_gather_across_nodes_pays_both_tiers_and_a_latency_per_ring_step():
    # 4 nodes x 8: the NICs carry 1/8 shards among 4 nodes, NVLink the rest inside each node;
    # the ring has 32 - 4 NVLink hops and 4 - 1 network hops
    t = float(all_gather_time_s(8e9, 32, 8, T))
    expected = 3 / 4 * 1e9 / 10e9 + 7 / 8 * 8e9 / 100e9 + SIMPLE + 28 * NVL + 3 * NET
    assert t == pytest.approx(expected)


def test_ring_latency_grows_with_the_ranks_so_small_messages_get_slower_at_scale():
    small = [float(all_gather_time_s(1e6, g, 8, T)) for g in (64, 512, 4096)]
    assert small[0] < small[1] < small[2]
    assert small[2] > (4096 - 512) * 0.47e-6  # NVLink hops alone, at the fastest protocol


def test_torus_all_gather_uses_every_dimension_the_group_spans():
    torus = CommTiers(600e9, 2e-6, 600e9, 2e-6, 2048, (8, 16, 16))
    link = 600e9 / 6  # 6 links per chip on a 3D torus
    one_dim = float(all_gather_time_s(1e9, 8, 8, torus))
    assert one_dim == pytest.approx(7 / 8 * 1e9 / (2 * link) + 7 * 2e-6)
    three = float(all_gather_time_s(1e9, 2048, 2048, torus))
    assert three == pytest.approx(2047 / 2048 * 1e9 / (6 * link) + (7 + 15 + 15) * 2e-6)


def test_one_rank_per_node_uses_only_the_network():
    t = float(all_reduce_time_s(1e9, 4, 1, T))
    assert t == pytest.approx(2 * 3 / 4 * 1e9 / 10e9 + SIMPLE + 2 * 3 * NET)


def test_all_to_all_splits_traffic_by_destination():
    # group of 16 over 2 nodes: 7/16 stays on NVLink, 8/16 crosses the network (the bottleneck)
    t = float(all_to_all_time_s(16e6, 16, 8, T))
    assert t == pytest.approx(8e6 / 10e9 + 5e-6 + 1e-6)
    assert float(all_to_all_time_s(16e6, 1, 1, T)) == 0.0


def test_group_layout():
    per_node, nodes = group_layout(np.array([8, 64, 32, 4]), np.array([1, 1, 8, 2]), 8)
    assert list(per_node) == [8, 8, 1, 4]
    assert list(nodes) == [1, 8, 32, 1]


def test_expected_remote_nodes_with_node_limit():
    # 8 experts uniform over 8 nodes reach 8 (1 - (7/8)^8) = 5.25 nodes, capped at 4; 7/8 are remote
    assert float(expected_remote_nodes(8, 8, 4)) == pytest.approx(4 * 7 / 8)
    assert float(expected_remote_nodes(8, 8, None)) == pytest.approx(8 * (1 - (7 / 8) ** 8) * 7 / 8)


def test_p2p_and_cluster_tiers():
    assert float(p2p_time_s(1e9, True, T)) == pytest.approx(1e9 / 10e9 + 5e-6)
    assert float(p2p_time_s(1e9, False, T)) == pytest.approx(1e9 / 100e9 + 1e-6)
    tiers = comm_tiers(resolve_cluster("h800x16"))
    # ib-ndr: 8 x 400 Gb/s per node shared by 8 GPUs = 50 GB/s each, 80% achievable
    assert tiers.out_bytes_per_s == pytest.approx(50e9 * 0.8)
    assert tiers.up_bytes_per_s == pytest.approx(200e9 * 0.8)
