"""Units: SI in memory; source units (GB/s, Gbit/s, TFLOP/s, GiB, us) are converted once, here."""

from __future__ import annotations

import math
import re
from typing import Any

from scalelab.core.errors import ConfigError

GB = 1e9  # bytes, decimal (vendors' and papers' "GB")
GIB = 2**30  # bytes, binary
TB = 1e12
TERA = 1e12

# dtype -> bytes per element; int4/fp4 pack two per byte
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "fp4": 0.5,
}

# (source-unit token, SI token, factor). Longest tokens first so `_gb_per_s` wins over `_gb`.
_UNIT_TOKENS: list[tuple[str, str, float]] = [
    ("_tb_per_s", "_bytes_per_s", 1e12),
    ("_gb_per_s", "_bytes_per_s", 1e9),
    ("_gbit_per_s", "_bytes_per_s", 1e9 / 8),
    ("_tbit_per_s", "_bytes_per_s", 1e12 / 8),
    ("_pj_per_bit", "_j_per_bit", 1e-12),
    ("_pj_per_mac", "_j_per_mac", 1e-12),
    ("_pj_per_flop", "_j_per_flop", 1e-12),
    ("_tflops", "_flops_per_s", 1e12),
    ("_tops", "_ops_per_s", 1e12),
    ("_gib", "_bytes", float(GIB)),
    ("_mib", "_bytes", float(2**20)),
    ("_gb", "_bytes", 1e9),
    ("_mb", "_bytes", 1e6),
    ("_kb", "_bytes", 1e3),
    ("_ms", "_s", 1e-3),
    ("_us", "_s", 1e-6),
    ("_ns", "_s", 1e-9),
    ("_kw", "_w", 1e3),
    ("_kwh", "_j", 3.6e6),
]
_TOKEN_RE = re.compile("(" + "|".join(re.escape(t) for t, _, _ in _UNIT_TOKENS) + r")(?=_|$)")
_FACTORS = {t: (si, f) for t, si, f in _UNIT_TOKENS}


def dtype_bytes(dtype: str) -> float:
    """Bytes per element of `dtype` (raises KeyError on an unknown dtype)."""
    return DTYPE_BYTES[dtype]


def to_si_key(key: str) -> tuple[str, float]:
    """`nic_gbit_per_s` -> (`nic_bytes_per_s`, 1.25e8); keys already in SI come back with 1.0."""
    match = _TOKEN_RE.search(key)
    if match is None:
        return key, 1.0
    token = match.group(1)
    si, factor = _FACTORS[token]
    return key[: match.start()] + si + key[match.end() :], factor


def normalize_units(table: dict[str, Any]) -> dict[str, Any]:
    """Rename source-unit keys of a flat or nested mapping to SI keys and scale their numbers."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out[key] = normalize_units(value)
            continue
        si_key, factor = to_si_key(key)
        if factor != 1.0 and isinstance(value, int | float) and not isinstance(value, bool):
            value = value * factor
        out[si_key] = value
    return out


def gbit_per_s_to_bytes_per_s(gbit_per_s: float) -> float:
    """Network line rate (Gbit/s, decimal) to bytes per second."""
    return gbit_per_s * 1e9 / 8


# Count suffixes on the command line: decimal as in "16M tokens" or "14.8T tokens" (B = billion),
# binary only when written so (Ki, Mi, Gi, Ti: IEC 80000-13), so 16M is never silently 2^24.
_DECIMAL_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9, "t": 1e12}
_BINARY_SUFFIX = {"ki": 2.0**10, "mi": 2.0**20, "gi": 2.0**30, "ti": 2.0**40}
_COUNT_RE = re.compile(
    r"^\s*(?P<num>[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(?P<suffix>[kmgt]i|[kmgbt]?)\s*$",
    re.IGNORECASE,
)


def parse_count(text: str, flag: str) -> float:
    """`2048` -> 2048, `16M` -> 1.6e7, `14.8T` -> 1.48e13, `70B` -> 7e10, `16Mi` -> 2^24.
    Anything else is a ConfigError naming `flag`."""
    match = _COUNT_RE.match(str(text))
    if match is None:
        raise ConfigError(
            f"{flag}: expected a number like 2048, 16M, 14.8T or 16Mi (binary), got '{text}'"
        )
    suffix = match.group("suffix").lower()
    scale = _BINARY_SUFFIX[suffix] if suffix in _BINARY_SUFFIX else _DECIMAL_SUFFIX[suffix]
    value = float(match.group("num")) * scale
    if not math.isfinite(value):  # 1e400
        raise ConfigError(f"{flag}: {text} is not a finite number")
    return value


def sequences_in_batch(batch_tokens: str, seq_len: int, flag: str = "--batch-tokens") -> int:
    """Whole sequences of `seq_len` tokens in `batch_tokens`; a batch that does not divide is a
    ConfigError naming the two nearest that do (Llama 3's "16M" = 2,048 x 8,192 is written 16Mi)."""
    tokens = parse_count(batch_tokens, flag)
    sequences = tokens / seq_len
    whole = round(sequences)
    if whole >= 1 and abs(sequences - whole) <= 1e-9 * max(1.0, sequences):
        return int(whole)
    low, high = max(1, math.floor(sequences)), max(1, math.floor(sequences)) + 1
    options = " or ".join(
        f"{n * seq_len:,} (= {n:,} sequences, --global-batch {n})"
        for n in ((low, high) if sequences >= 1 else (low,))
    )
    binary = re.search(r"[kmgt]i\s*$", batch_tokens, re.IGNORECASE)
    hint = "" if binary else "; binary sizes are written Ki, Mi, Gi, Ti"
    raise ConfigError(
        f"{flag} {batch_tokens} = {tokens:,.0f} tokens is {sequences:,.2f} sequences of "
        f"{seq_len:,} tokens, not a whole number; nearest valid: {options}{hint}"
    )
