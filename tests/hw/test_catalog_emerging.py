"""Every number of the emerging catalog entries, including the [emerging] tables, has a source or
is marked an assumption; an uncovered nested number is caught."""

import pytest

from scalelab.core import catalog

NEW = ["cim-analog", "photonic-compute", "fpga-brainwave", "cpu-epyc-9654", "systolic-tpu-v4"]


def test_nested_numbers_are_checked():
    raw = {
        "tdp_w": 1.0,
        "emerging": {"energy_pj_per_mac": 0.2, "adc_pj_per_conversion": 2.0},
        "sources": {"tdp_w": "x"},
        "assumptions": {"energy": "y"},
    }
    assert catalog.uncovered_numbers(raw) == ["emerging.adc_pj_per_conversion"]
    raw["assumptions"]["emerging.adc"] = "z"
    assert catalog.uncovered_numbers(raw) == []


@pytest.mark.parametrize("acc_id", NEW)
def test_new_accelerators_fully_sourced(acc_id):
    raw = catalog.load_raw("accelerators", acc_id)
    assert catalog.uncovered_numbers(raw) == []
    assert catalog.load_accelerator(acc_id).kind in ("cim", "photonic", "fpga", "cpu", "tpu")


@pytest.mark.parametrize("link_id", ["photonic-link", "photonic-scaleup"])
def test_photonic_interconnects(link_id):
    raw = catalog.load_raw("interconnects", link_id)
    assert catalog.uncovered_numbers(raw) == []
    if raw["tier"] == "scale-out":
        net = catalog.load_network(link_id)
        assert net.nic_bytes_per_s == pytest.approx(
            800e9
        ) and net.energy_j_per_bit == pytest.approx(3e-12)
    else:
        assert catalog.load_link(link_id).bandwidth_bytes_per_s_per_direction == pytest.approx(4e12)
