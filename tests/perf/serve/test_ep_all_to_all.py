"""EP all-to-all bandwidth (perf/serve/ep.py ep_all_to_all): hand-derived times and DeepEP's
logical byte counts, NVLink-bound inside a node, RDMA-bound across nodes, both kernel styles."""

import pytest

from scalelab.core.scenario import resolve_cluster
from scalelab.perf.serve.ep import destination_nodes, destination_ranks, ep_all_to_all

FP8 = 7168 * (1 + 4 / 128)  # bytes per token copy, FP8 with one fp32 scale per 128 values
BF16 = 7168 * 2
NVL_H800 = 0.8 * 200e9  # catalog NVLink per direction x perf/comm.py achievable fraction
NIC = 0.8 * 50e9  # one 400G NIC per GPU x achievable fraction
NVL_LAT, IB_LAT = 1e-6, 5e-6


def h800(n):
    return resolve_cluster({"accelerator": "h800-sxm5-80gb", "num_devices": n})


def test_destination_counts():
    assert destination_ranks(8, 8) == pytest.approx(8 * (1 - (7 / 8) ** 8))
    dest, remote = destination_nodes(4, 8, None)
    assert dest == pytest.approx(4 * (1 - 0.75**8))
    assert remote == pytest.approx(dest * 3 / 4)
    dest, remote = destination_nodes(8, 8, 4)  # 4 of 8 nodes picked, own node among them w.p. 1/2
    assert dest == pytest.approx(4 * (1 - 0.75**8))
    assert remote == pytest.approx(dest - 0.5 * (1 - 0.75**8))


def test_low_latency_hand_derivation_across_nodes():
    """128 tokens x 8 copies; 8/32 stay in the node (own one unsent), 24/32 go over RDMA."""
    r = ep_all_to_all(h800(32), 32, 128, 8, 7168, style="low-latency")
    remote, local = 128 * 8 * 24 / 32, 128 * 8 * 7 / 32
    expected = max(local * FP8 / NVL_H800, remote * FP8 / NIC) + NVL_LAT + IB_LAT
    assert r.dispatch_s == pytest.approx(expected)
    assert r.dispatch_bytes_per_s == pytest.approx(128 * 8 * FP8 / expected)  # every copy counted
    assert r.combine_bytes_per_s == pytest.approx(
        128 * 8 * BF16 / (remote * BF16 / NIC + NVL_LAT + IB_LAT)
    )
    assert r.bottleneck == "RDMA" and r.message_bytes == pytest.approx(FP8)


def test_high_throughput_intranode_is_nvlink_bound():
    r = ep_all_to_all(h800(8), 8, 4096, 8, 7168, style="high-throughput")
    ranks = 4096 * destination_ranks(8, 8)
    assert r.dispatch_s == pytest.approx(ranks * FP8 / NVL_H800 + NVL_LAT)
    assert r.dispatch_bytes_per_s == pytest.approx(ranks * FP8 / r.dispatch_s)
    assert r.bottleneck == "NVLink" and r.nodes == 1


def test_high_throughput_internode_sends_once_per_node():
    r = ep_all_to_all(h800(32), 32, 4096, 8, 7168, style="high-throughput", node_limit=4)
    dest, remote = destination_nodes(4, 8, 4)
    rdma_s = 4096 * remote * FP8 / NIC + IB_LAT
    nvl_s = 4096 * destination_ranks(32, 8) * FP8 / NVL_H800 + NVL_LAT
    assert r.dispatch_s == pytest.approx(max(rdma_s, nvl_s))
    assert r.bottleneck == "RDMA"
    # DeepEP counts a token once per destination node, the own node included
    assert r.dispatch_bytes_per_s == pytest.approx(4096 * dest * FP8 / r.dispatch_s)


def test_more_nics_or_faster_nvlink_never_slow_it():
    base = ep_all_to_all(h800(32), 32, 4096, 8, 7168)
    fast = resolve_cluster(
        {
            "accelerator": "h800-sxm5-80gb",
            "num_devices": 32,
            "scale_out": {"kind": "ib-ndr", "nic_gbit_per_s": 800},
        }
    )
    assert ep_all_to_all(fast, 32, 4096, 8, 7168).dispatch_s < base.dispatch_s
    h100 = resolve_cluster({"accelerator": "h100-sxm5-80gb", "num_devices": 8})
    assert (
        ep_all_to_all(h100, 8, 4096, 8, 7168).dispatch_s
        < ep_all_to_all(h800(8), 8, 4096, 8, 7168).dispatch_s
    )
