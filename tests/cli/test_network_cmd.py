"""`scalelab network`: tables, JSON, and one-line errors."""

import json


def test_network_json_fat_tree_2(cli):
    code, out, err = cli("network", "fat-tree-2", "--radix", "64", "--json")
    assert code == 0, err
    [t] = json.loads(out)["results"]
    assert (t["num_endpoints"], t["num_switches"], t["num_links"]) == (2048, 96, 2048)


def test_network_planes_and_link_rate(cli):
    code, out, _ = cli(
        "network", "mpft", "--radix", "64", "--planes", "8", "--link-gbit", "800", "--json"
    )
    assert code == 0
    [t] = json.loads(out)["results"]
    assert t["num_endpoints"] == 16384 and t["link_bytes_per_s"] == 100e9


def test_network_all_table(cli):
    code, out, _ = cli("network", "all")
    assert code == 0
    for name in ("fat-tree-2", "multi-plane-fat-tree", "fat-tree-3", "slim-fly", "dragonfly"):
        assert name in out


def test_network_bad_input_is_one_line(cli):
    for args in (
        ("network", "hypercube"),
        ("network", "fat-tree-2", "--radix", "7"),
        ("network", "fat-tree-2", "--link-gbit", "0"),
    ):
        code, out, err = cli(*args)
        assert code == 1, args
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_hardware_show_prints_emerging_sources(cli, monkeypatch):
    from scalelab.cli import common

    monkeypatch.setattr(common.out, "width", 400)  # no wrapping inside table cells
    code, out, _ = cli("hardware", "show", "cim-analog", "--json")
    assert code == 0 and json.loads(out)["results"]["emerging"]["weights_per_chip"] == 80e6
    code, out, _ = cli("hardware", "show", "cim-analog")
    assert code == 0 and "emerging.weights_per_chip" in out
    assert "source: Mythic M1076: up to 80M weight parameters" in out
    assert "ASSUMPTION: derived under idle_w" in out  # emerging.energy_pj_per_mac
