"""Decode-shaped GEMMs (m <= 256 rows) of the serving model against real H200 timings.

Each record of h200_kernels.json is one isolated eager call timed with CUDA events, repeated on the same
operands without flushing L2. So it includes the call overhead the calibration fitted as
`single_call_overhead_s`, and up to `bench_l2_warm_bytes` of its operands are still cached; the prediction
adds the first and credits the second, exactly as the fit did (perf/kernels/calibration.py).
"""

import json
from importlib import resources

import pytest

from scalelab.core import catalog
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS
from scalelab.perf.kernels.timing import gemm_time_s
from scalelab.perf.serve.ops import linear_time_s

TOLERANCE_FRAC = 0.25  # the acceptance bound for decode-shaped GEMMs
H200 = catalog.load_accelerator("h200-sxm-141gb")


def _records():
    path = resources.files("scalelab.validate") / "cases" / "h200_kernels.json"
    data = json.loads(path.read_text())
    return [
        r
        for r in data["records"]
        if r["kind"] in ("gemm_bf16", "gemm_fp8") and r["params"]["m"] <= 256
    ]


RECORDS = _records()


def _case(r):
    p = r["params"]
    return pytest.param(r, id=r["kind"][5:] + "-" + "x".join(str(p[x]) for x in "mnk"))


def test_there_are_decode_shaped_records():
    assert len(RECORDS) >= 11
    assert {r["params"]["m"] for r in RECORDS} >= {1, 8, 32, 128, 256}


@pytest.mark.parametrize("record", [_case(r) for r in RECORDS])
def test_decode_gemm_within_25_percent(record):
    p = record["params"]
    warm = H200_KERNEL_PARAMS.bench_l2_warm_bytes
    predicted = (
        float(linear_time_s(p["m"], p["n"], p["k"], record["kind"][5:], H200, warm_l2_bytes=warm))
        + H200_KERNEL_PARAMS.single_call_overhead_s
    )
    measured = record["time_s"]
    err = (predicted - measured) / measured
    print(
        f"{p}: predicted {predicted * 1e6:.1f} us, measured {measured * 1e6:.1f} us, error {err:+.1%}"
    )
    assert abs(err) <= TOLERANCE_FRAC


@pytest.mark.parametrize("m", [1, 8, 32, 128, 256])
def test_bf16_linear_is_the_kernel_model(m):
    """The serving GEMM with bf16 weights is exactly perf/kernels.gemm_time_s (one operator model)."""
    assert float(linear_time_s(m, 7168, 7168, "bf16", H200)) == pytest.approx(
        float(gemm_time_s(m, 7168, 7168, "bf16", H200))
    )


def test_the_largest_weight_gets_no_help_from_l2():
    """128 x 28672 x 8192 streams 470 MB of weights: the 50 MiB L2 credit moves it by under 12%, so this
    record pins the cold weight-streaming fraction that serving uses."""
    cold = float(linear_time_s(128, 28672, 8192, "bf16", H200))
    warm = float(linear_time_s(128, 28672, 8192, "bf16", H200, warm_l2_bytes=50 * 2**20))
    assert 0.88 < warm / cold < 1.0


def test_skinny_gemm_is_memory_bound():
    """m = 1 against 7168 x 7168 bf16: the time is the weight bytes over the fitted HBM fraction, plus the floor."""
    weights = 7168 * 7168 * 2
    expected = H200_KERNEL_PARAMS.kernel_floor_s + weights / (
        H200_KERNEL_PARAMS.gemm_memory_frac * 4.8e12
    )
    assert float(linear_time_s(1, 7168, 7168, "bf16", H200)) == pytest.approx(expected, rel=0.01)


def test_int4_weights_read_a_quarter_of_bf16_bytes():
    t16 = float(linear_time_s(1, 7168, 7168, "bf16", H200)) - H200_KERNEL_PARAMS.kernel_floor_s
    t4 = float(linear_time_s(1, 7168, 7168, "int4", H200)) - H200_KERNEL_PARAMS.kernel_floor_s
    assert t4 == pytest.approx(t16 / 4, rel=0.01)
