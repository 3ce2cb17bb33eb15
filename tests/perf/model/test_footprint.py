import pytest

from scalelab.core.catalog import load_model
from scalelab.perf.model.footprint import (
    kv_cache_bytes_per_token,
    kv_cache_bytes_per_token_as_mha,
    weight_bytes,
)


def test_kv_cache_published():
    # Zhao et al. ISCA'25 Table 1: 70.272 KB, 327.680 KB, 516.096 KB per token (bf16)
    assert kv_cache_bytes_per_token(load_model("deepseek-v3")) == 70272
    assert kv_cache_bytes_per_token(load_model("qwen2.5-72b")) == 327680
    assert kv_cache_bytes_per_token(load_model("llama-3.1-405b")) == 516096


def test_kv_dtype_and_mha():
    m = load_model("llama-3.1-8b")
    assert kv_cache_bytes_per_token(m, "fp8") == kv_cache_bytes_per_token(m) / 2
    assert kv_cache_bytes_per_token_as_mha(m) == 4 * kv_cache_bytes_per_token(
        m
    )  # 32 heads vs 8 KV heads


def test_weight_bytes_per_dtype():
    m = load_model("llama-3.1-8b")
    assert weight_bytes(m, "bf16") == pytest.approx(2 * 8.03e9, rel=0.005)
    assert weight_bytes(m, "int4") == weight_bytes(m, "bf16") / 4
