"""Power model: calibration arithmetic by hand, cap, throttling, run energy/CO2/money."""

import pytest

from scalelab.core import catalog
from scalelab.core.errors import ConfigError
from scalelab.core.scenario import resolve_cluster
from scalelab.perf.energy import (
    CostBasis,
    Facility,
    PowerPoint,
    device_power_w,
    energy_arrays,
    fit_energy_coefficients,
    operating_point,
    power_model,
    run_energy,
    step_energy_j,
)

H200 = catalog.load_accelerator("h200-sxm-141gb")


def test_fit_recovers_hand_coefficients():
    pts = [PowerPoint("gemm", 1e15, 0.0, 600.0), PowerPoint("copy", 0.0, 1e12, 300.0)]
    e_flop, e_byte = fit_energy_coefficients(100.0, pts)
    assert e_flop == pytest.approx(5e-13) and e_byte == pytest.approx(2e-10)


def test_fit_needs_independent_points():
    with pytest.raises(ConfigError, match="two points"):
        fit_energy_coefficients(
            100.0, [PowerPoint("a", 1e15, 1e12, 600), PowerPoint("b", 2e15, 2e12, 1100)]
        )


def test_h200_coefficients_by_hand():
    m = power_model(H200)
    # copy: (645.93 - 79.64) W / 4.296538 TB/s = 131.80 pJ/B
    assert m.j_per_byte == pytest.approx(131.80e-12, rel=1e-3)
    # GEMM 8192^3 at 664.5628 TFLOP/s moves 3/8192 B/FLOP = 243.37 GB/s -> 32.08 W of traffic;
    # (691.87 - 79.64 - 32.08) W / 664.5628e12 = 0.8730 pJ/FLOP
    assert m.j_per_flop_bf16 == pytest.approx(0.8730e-12, rel=1e-3)
    assert m.j_per_flop(H200, "fp8") == pytest.approx(m.j_per_flop_bf16 * 989.4 / 1978.9)
    assert m.idle_w == 79.64 and m.board_limit_w == 700


def test_idle_and_cap():
    assert device_power_w(H200, 0, 0) == pytest.approx(79.64)
    assert device_power_w(H200, 2e15, 4.8e12) == 700.0
    with pytest.raises(ConfigError):
        device_power_w(H200, -1.0, 0.0)


def test_throttling_keeps_energy_per_op():
    op = operating_point(H200, 989.4e12, 0.0)
    assert op.power_w == pytest.approx(700.0)
    # (700 - 79.64) W / 0.8730 pJ = 710.6 TFLOP/s
    assert op.flops_per_s == pytest.approx(620.36 / 0.8730e-12, rel=2e-3)
    assert op.throttle_frac < 1
    relaxed = operating_point(H200, 0.0, 4.0e12)
    assert relaxed.throttle_frac == 1.0 and relaxed.bytes_per_s == 4.0e12


def test_unknown_idle_uses_h200_fraction():
    b200 = catalog.load_accelerator("b200")
    if b200.idle_w is None:
        assert power_model(b200).idle_w == pytest.approx(b200.tdp_w * 79.64 / 700)


def test_step_energy_bounds():
    e = step_energy_j(H200, 2.0, 1e15, 1e12, num_devices=4)
    assert 4 * 79.64 * 2 <= e <= 4 * 700 * 2
    with pytest.raises(ConfigError):
        step_energy_j(H200, 0.0, 1.0, 1.0)


def test_run_energy_idle_node_by_hand():
    cluster = resolve_cluster({"accelerator": "h200-sxm-141gb", "num_devices": 8})
    r = run_energy(cluster, 3600.0, 0.0, 0.0, tokens=1000)
    devices_j = 8 * 79.64 * 3600
    overhead_j = 8 * 150 * 3600
    assert r.facility_energy_j == pytest.approx((devices_j + overhead_j) * 1.2)
    assert r.energy_kwh == pytest.approx((devices_j + overhead_j) * 1.2 / 3.6e6)
    assert r.co2_kg == pytest.approx(r.energy_kwh * 0.45)
    assert r.cost_usd == pytest.approx(8 * 2.5)  # 8 device-hours at the catalog's 2.5 USD
    assert r.joules_per_token == pytest.approx(r.facility_energy_j / 1000)


def test_run_energy_owned_and_network():
    cluster = resolve_cluster({"accelerator": "h200-sxm-141gb", "num_devices": 16})
    with pytest.raises(ConfigError, match="capex"):
        run_energy(cluster, 10.0, 0.0, 0.0, cost=CostBasis(mode="owned"))
    r = run_energy(
        cluster,
        3600.0,
        0.0,
        0.0,
        network_bytes=1e12,
        facility=Facility(pue=1.0),
        cost=CostBasis(mode="owned", capex_usd_per_device=35064.0, amortization_years=4.0),
    )
    assert r.network_energy_j == pytest.approx(8e12 * 20e-12)  # 1 TB at the default 20 pJ/bit
    # 16 device-hours of a 35,064 USD device over 35,064 hours = 16 USD, plus electricity at 0.08/kWh
    assert r.cost_usd == pytest.approx(16.0 + r.energy_kwh * 0.08)


def test_energy_arrays_is_run_energy_over_plans():
    cluster = resolve_cluster({"accelerator": "h200-sxm-141gb", "num_devices": 16})
    t, f, b, net = [1.0, 10.0, 3.0], [1e14, 5e15, 0.0], [1e12, 1e12, 9e12], [0.0, 1e12, 5e11]
    arrays = energy_arrays(cluster, t, f, b, network_bytes=net)
    for i in range(3):
        one = run_energy(cluster, t[i], f[i], b[i], network_bytes=net[i])
        assert arrays.facility_energy_j[i] == pytest.approx(one.facility_energy_j, rel=1e-12)
        assert arrays.avg_device_power_w[i] == pytest.approx(one.avg_device_power_w, rel=1e-12)
        assert arrays.energy_kwh[i] == pytest.approx(one.energy_kwh, rel=1e-12)
