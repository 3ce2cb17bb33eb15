"""Invariants of the hardware models (hypothesis)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core import catalog
from scalelab.core.scenario import resolve_cluster
from scalelab.hw.scaleout import effective_scale_out
from scalelab.hw.topology import build_topology
from scalelab.perf.energy import device_power_w, operating_point, power_model, step_energy_j

ACCELERATORS = [catalog.load_accelerator(i) for i in catalog.list_ids("accelerators")]
acc_st = st.sampled_from(ACCELERATORS)
rate = st.floats(min_value=0, max_value=1e17, allow_nan=False)
bw = st.floats(min_value=0, max_value=1e14, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    acc_st,
    st.floats(min_value=1e-6, max_value=1e6),
    rate,
    bw,
    st.sampled_from(["bf16", "fp8", "fp32"]),
)
def test_step_energy_between_idle_and_board_limit(acc, t, flops_per_s, bytes_per_s, dtype):
    e = step_energy_j(acc, t, flops_per_s * t, bytes_per_s * t, dtype)
    idle = power_model(acc).idle_w
    assert e >= idle * t * (1 - 1e-9)
    assert e <= acc.tdp_w * t * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(acc_st, rate, bw)
def test_power_never_exceeds_board_limit(acc, flops_per_s, bytes_per_s):
    assert device_power_w(acc, flops_per_s, bytes_per_s) <= acc.tdp_w
    op = operating_point(acc, flops_per_s, bytes_per_s)
    assert op.power_w <= acc.tdp_w * (1 + 1e-9)
    assert op.flops_per_s <= flops_per_s and op.bytes_per_s <= bytes_per_s


@settings(max_examples=200, deadline=None)
@given(acc_st, rate, rate, bw)
def test_power_is_monotone_in_work(acc, f1, f2, b):
    lo, hi = sorted((f1, f2))
    assert device_power_w(acc, lo, b) <= device_power_w(acc, hi, b)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["fat-tree-2", "fat-tree-3", "slim-fly", "dragonfly", "multi-plane-fat-tree"]),
    st.integers(min_value=4, max_value=64),
    st.integers(min_value=1, max_value=32),
)
def test_more_switch_radix_more_endpoints(name, half_radix, step):
    small, large = 2 * half_radix, 2 * (half_radix + step)  # even radices for the fat-trees
    n_small, n_large = (
        build_topology(name, small).num_endpoints,
        build_topology(name, large).num_endpoints,
    )
    # slim fly (q) and dragonfly (p) grow in steps: never fewer endpoints; fat-trees strictly more
    assert n_large > n_small if "fat-tree" in name else n_large >= n_small
    assert build_topology(name, 2 * large).num_endpoints > n_large  # doubling always adds endpoints


@settings(max_examples=50, deadline=None)
@given(
    st.integers(min_value=2, max_value=256),
    st.floats(min_value=10, max_value=3200),
    st.floats(min_value=1.0, max_value=8.0),
)
def test_scale_out_bandwidth_grows_with_nic_rate(nodes, gbit, taper):
    def per_device(g):
        cluster = resolve_cluster(
            {
                "accelerator": "h800-sxm5-80gb",
                "num_devices": 8 * nodes,
                "scale_out": {
                    "kind": "ib-ndr",
                    "nic_gbit_per_s": g,
                    "oversubscription_ratio": taper,
                },
            }
        )
        return effective_scale_out(cluster).bytes_per_s_per_device

    assert per_device(gbit) <= per_device(2 * gbit)
    assert per_device(gbit) <= gbit * 1e9 / 8 / taper * (1 + 1e-12)
