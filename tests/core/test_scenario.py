import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.scenario import (
    cluster_from_string,
    load_scenario,
    resolve_cluster,
    resolve_model,
)


def test_cluster_string_uses_catalog_defaults():
    c = cluster_from_string("h800x2048")
    assert c.accelerator.id == "h800-sxm5-80gb"
    assert c.num_devices == 2048 and c.devices_per_node == 8 and c.num_nodes == 256
    assert c.scale_up.bandwidth_bytes_per_s_per_direction == pytest.approx(200e9)
    assert c.scale_out is not None and c.scale_out.nic_bytes_per_s == pytest.approx(50e9)


@pytest.mark.parametrize("text", ["h800", "x2048", "warp9x8"])
def test_bad_cluster_strings(text):
    with pytest.raises(ConfigError):
        cluster_from_string(text)


def test_inline_hardware_table_in_source_units():
    c = resolve_cluster(
        {
            "accelerator": "a100-sxm4-80gb",
            "num_devices": 32,
            "devices_per_node": 8,
            "scale_up": {"kind": "nvlink3", "bandwidth_gb_per_s_per_direction": 300},
            "scale_out": {"kind": "ib-hdr", "nics_per_node": 8, "nic_gbit_per_s": 200},
        }
    )
    assert c.scale_out.nic_bytes_per_s == pytest.approx(25e9)
    assert c.scale_up.bandwidth_bytes_per_s_per_direction == pytest.approx(300e9)


def test_inline_model_overrides_catalog():
    m = resolve_model({"catalog_id": "llama-3.1-8b", "num_layers": 16})
    assert m.num_layers == 16 and m.hidden_size == 4096


def test_typo_in_scenario_names_field():
    with pytest.raises(ConfigError, match="parallel: tpp: unknown field"):
        load_scenario(
            {
                "model": "llama-3.1-8b",
                "hardware": "h100x8",
                "parallel": {"tpp": 2},
                "workload": {"global_batch_size": 8, "seq_len": 1024},
            },
            "train",
        )


def test_missing_table():
    with pytest.raises(ConfigError, match="missing table 'workload'"):
        load_scenario({"model": "llama-3.1-8b", "hardware": "h100x8"}, "train")
