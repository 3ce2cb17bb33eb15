"""Invariants of the kernel model (hypothesis): a bigger GEMM or more groups never run faster, and
operands already in L2 never make a GEMM slower, on every catalog GPU."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core.catalog import load_accelerator
from scalelab.perf.kernels.timing import gemm_time_s, grouped_gemm_time_s
from scalelab.perf.serve.ops import linear_time_s

ACCS = [load_accelerator(a) for a in ("h200-sxm-141gb", "h800-sxm5-80gb", "a100-sxm4-80gb")]
dims = st.integers(min_value=1, max_value=20_000)
dtypes = st.sampled_from(["bf16", "fp8", "fp32"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ACCS), dims, dims, dims, st.sampled_from(["m", "n", "k"]), dims, dtypes)
def test_a_bigger_gemm_never_runs_faster(acc, m, n, k, which, extra, dtype):
    shape = {"m": m, "n": n, "k": k}
    bigger = dict(shape, **{which: shape[which] + extra})
    big = float(gemm_time_s(**bigger, dtype=dtype, acc=acc))
    assert big >= float(gemm_time_s(**shape, dtype=dtype, acc=acc)) * (1 - 1e-12)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ACCS), st.integers(1, 512), st.integers(1, 64), dims, dims, dtypes)
def test_more_groups_never_run_faster(acc, groups, extra, n, k, dtype):
    m = 16
    few = float(grouped_gemm_time_s(groups, m, n, k, dtype, acc))
    many = float(grouped_gemm_time_s(groups + extra, m, n, k, dtype, acc))
    assert many >= few * (1 - 1e-12)  # equal inside one wave (wave quantization), up to rounding


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ACCS), dims, dims, dims, st.floats(0.0, 1e9))
def test_cached_operands_never_slow_a_gemm(acc, m, n, k, warm_bytes):
    cold = float(linear_time_s(m, n, k, "bf16", acc))
    warm = float(linear_time_s(m, n, k, "bf16", acc, warm_l2_bytes=warm_bytes))
    assert warm <= cold
