"""validate/kernels.py: the kernel model against every H200 GEMM timing, as the report shows it."""

import json
from importlib import resources

import pytest

from scalelab.core import catalog
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS as P
from scalelab.perf.serve.ops import linear_time_s
from scalelab.validate.kernels import gemm_checks, rms_log_error

H200 = catalog.load_accelerator("h200-sxm-141gb")


def _gemm_records():
    path = resources.files("scalelab.validate") / "cases" / "h200_kernels.json"
    return [r for r in json.loads(path.read_text())["records"] if r["kind"].startswith("gemm_")]


def test_one_check_per_gemm_record_with_its_measured_time():
    records = _gemm_records()
    checks = gemm_checks()
    assert len(checks) == len(records) == 32
    assert [c.measured_s for c in checks] == [r["time_s"] for r in records]


def test_rms_matches_the_calibration_literal():
    assert rms_log_error(gemm_checks()) == pytest.approx(P.fit_rms_log_error, abs=0.01)


def test_decode_shaped_checks_are_within_25_percent():
    decode = [c for c in gemm_checks() if c.decode_shaped]
    assert len(decode) == 11
    assert all(abs(c.rel_error) <= 0.25 for c in decode), [
        (c.shape, round(c.rel_error, 3)) for c in decode
    ]


def test_bf16_checks_are_the_serving_operator_model():
    for c in gemm_checks():
        if c.dtype == "bf16" and c.decode_shaped:
            serving = float(
                linear_time_s(c.m, c.n, c.k, "bf16", H200, warm_l2_bytes=P.bench_l2_warm_bytes)
            )
            assert c.predicted_s == pytest.approx(serving + P.single_call_overhead_s, rel=1e-9)


def test_rel_error_sign():
    c = gemm_checks()[0]
    assert (c.rel_error > 0) == (c.predicted_s > c.measured_s)
