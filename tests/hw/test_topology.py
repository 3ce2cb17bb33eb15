"""Topology counts against hand derivations and the papers' own examples; cost model; scale-out."""

import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.scenario import resolve_cluster
from scalelab.hw.netcost import CostModel
from scalelab.hw.scaleout import apply_topology, effective_scale_out
from scalelab.hw.topology import build_topology, slim_fly_q

B400 = 400e9 / 8


def test_fat_tree_2_radix_8_by_hand():
    t = build_topology("fat-tree-2", 8)
    # 8 leaves + 4 spines; each leaf: 4 hosts down, 4 links up -> 32 hosts, 32 leaf-spine links
    assert (t.num_endpoints, t.num_switches, t.num_links, t.diameter_switches) == (32, 12, 32, 3)
    assert t.bisection_bytes_per_s == pytest.approx(16 * B400)
    assert t.oversubscription_ratio == 1.0


def test_fat_tree_3_radix_4_matches_al_fares():
    # Al-Fares et al. SIGCOMM'08 Fig. 3: k=4 fat-tree, 16 hosts, 20 switches (4 core, 8 agg, 8 edge)
    t = build_topology("fat-tree-3", 4)
    assert (t.num_endpoints, t.num_switches, t.num_links) == (16, 20, 32)


def test_multi_plane_is_planes_copies_of_fat_tree_2():
    t = build_topology("multi-plane-fat-tree", 64, planes=4)
    assert (t.num_endpoints, t.num_switches, t.num_links) == (4 * 2048, 4 * 96, 4 * 2048)


def test_slim_fly_q5_is_hoffman_singleton():
    # q=5 MMS graph = Hoffman-Singleton: 50 routers of degree 7, diameter 2; p = ceil(7/2) = 4
    assert slim_fly_q(11) == (5, 7, 4)
    t = build_topology("slim-fly", 11)
    assert (t.num_switches, t.num_endpoints, t.num_links) == (50, 200, 175)
    assert t.note == ""  # 5 is prime


def test_slim_fly_radix_64_prime_power_only():
    q, kp, p = slim_fly_q(64, prime_power_only=True)
    assert (q, kp, p) == (27, 41, 21)  # 27 = 3^3, delta = -1
    assert "not a prime power" in build_topology("slim-fly", 64).note  # q = 28


def test_dragonfly_radix_7_by_hand():
    # p = h = 2, a = 4, g = a*h + 1 = 9 groups (Kim et al. ISCA'08 balanced dragonfly)
    t = build_topology("dragonfly", 7)
    assert (t.num_switches, t.num_endpoints) == (36, 72)
    assert t.num_links == 9 * 6 + 9 * 4 * 2 // 2  # local all-to-all + global links
    assert t.params["groups"] == 9


def test_torus_4ary_2cube_by_hand():
    t = build_topology("torus-2d", 4)
    assert (t.num_endpoints, t.num_switches, t.num_links) == (16, 0, 32)
    assert t.bisection_bytes_per_s == pytest.approx(8 * B400)  # 2 * k^(n-1) links
    assert t.diameter_switches == 4
    assert t.uniform_bytes_per_s_per_endpoint == pytest.approx(2 * B400)  # 8b/k


def test_unknown_topology_and_bad_radix():
    with pytest.raises(ConfigError, match="unknown topology 'hypercube'.*fat-tree-2"):
        build_topology("hypercube")
    with pytest.raises(ConfigError, match="even"):
        build_topology("fat-tree-2", 7)


def test_cost_model_per_switch_and_link():
    c = CostModel()
    # derived from Zhao et al. Table 3 fat-tree rows: switch = 85M / 1024, link = (9M - 96 switch) / 2048
    assert c.switch_usd(64, B400) == pytest.approx(85e6 / 1024)
    assert c.link_usd(B400) == pytest.approx(503.54, rel=1e-4)
    assert c.switch_usd(64, 2 * B400) == pytest.approx(2 * 85e6 / 1024)  # linear in line rate


def _cluster(n, **scale_out):
    return resolve_cluster(
        {
            "accelerator": "h800-sxm5-80gb",
            "num_devices": n,
            "scale_out": {"kind": "ib-ndr", **scale_out},
        }
    )


def test_scale_out_fits_two_level_tree():
    e = effective_scale_out(_cluster(2048))
    assert (e.topology, e.num_endpoints, e.hops) == ("fat-tree-2", 2048, 3)
    assert e.bytes_per_s_per_device == pytest.approx(50e9)  # 8 NICs x 400G per 8 GPUs
    bw, ratio, hops = e
    assert (ratio, hops) == (1.0, 3)


def test_scale_out_escalates_to_three_levels():
    e = effective_scale_out(_cluster(4096))
    assert e.topology == "fat-tree-3" and e.hops == 5 and "three-level" in e.note
    assert e.latency_s == pytest.approx(5e-6 + 2 * 300e-9)


def test_scale_out_taper_and_planes():
    assert effective_scale_out(
        _cluster(2048, oversubscription_ratio=2.0)
    ).bytes_per_s_per_device == pytest.approx(25e9)
    assert effective_scale_out(_cluster(16384, planes=8)).topology == "multi-plane-fat-tree"


def test_scale_out_too_large_for_slim_fly():
    with pytest.raises(ConfigError, match="at most 32,928"):
        effective_scale_out(_cluster(65536, topology="slim-fly"))


def test_single_node_and_apply_topology():
    single = resolve_cluster({"accelerator": "h800-sxm5-80gb", "num_devices": 8})
    assert effective_scale_out(single).bytes_per_s_per_device == 0.0
    applied = apply_topology(_cluster(4096))
    assert applied.scale_out.latency_s == pytest.approx(5.6e-6)
    assert applied.num_devices == 4096
