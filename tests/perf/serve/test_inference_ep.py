"""EP dispatch/combine (perf/serve/ep.py): wire bytes, which tier carries the traffic, node dedup."""

import pytest

from scalelab.core.scenario import resolve_cluster
from scalelab.perf.serve.ep import ep_comm_time_s, ep_tiers, wire_bytes_per_value

H800 = resolve_cluster({"accelerator": "h800-sxm5-80gb", "num_devices": 320})
NVL72 = resolve_cluster({"accelerator": "gb200", "num_devices": 72})


def test_wire_bytes_include_block_scales():
    assert wire_bytes_per_value("fp8") == 1 + 4 / 128  # one fp32 scale per 128 values
    assert wire_bytes_per_value("bf16") == 2


def test_override_replaces_the_scale_out_tier_for_a_multi_node_group():
    tiers = ep_tiers(H800, 320, 50e9, ignore_latency=True)
    assert tiers.out_bytes_per_s == 50e9
    assert tiers.up_bytes_per_s == pytest.approx(0.8 * 200e9)  # NVLink unchanged
    assert tiers.out_latency_s == tiers.up_latency_s == 0


def test_override_replaces_the_scale_up_tier_inside_one_nvlink_domain():
    tiers = ep_tiers(NVL72, 72, 900e9, ignore_latency=True)
    assert tiers.up_bytes_per_s == 900e9


def test_nvl72_hand_derivation():
    """32 tokens x 9 copies x 7168 x 3.03 B, all over NVLink, the own device's 1/72 share not sent."""
    comm = ep_comm_time_s(32, 9, 7168, 72, ep_tiers(NVL72, 72, 900e9, True), "fp8", "bf16")
    assert float(comm.total_s) == pytest.approx(32 * 9 * 7168 * (3 + 4 / 128) * (71 / 72) / 900e9)
    assert float(comm.scale_out_bytes) == 0.0  # nothing leaves the rack


def test_node_dedup_sends_each_token_once_per_remote_node():
    tiers = ep_tiers(H800, 64, None, True)
    direct = ep_comm_time_s(4096, 8, 7168, 64, tiers, "fp8", "bf16")
    dedup = ep_comm_time_s(
        4096, 8, 7168, 64, tiers, "fp8", "bf16", style="high-throughput", node_limit=4
    )
    # 8 nodes, the token picks 4 of them: 4 (1 - (3/4)^8) destinations, the own node among them
    # with probability 4/8 -> 3.600 - 0.450 = 3.150 remote sends per token (fp8 + bf16 phases).
    reached = 1 - 0.75**8
    remote = 4 * reached - 0.5 * reached
    assert float(dedup.scale_out_bytes) == pytest.approx(4096 * remote * 7168 * (3 + 4 / 128))
    assert float(dedup.total_s) < float(direct.total_s)


def test_single_device_group_costs_nothing():
    comm = ep_comm_time_s(32, 9, 7168, 1, ep_tiers(H800, 1, None, False), "fp8", "bf16")
    assert float(comm.total_s) == 0.0
