"""The operating point of a serving replica when the workload fixes no batch: the largest batch that
meets a latency target (an SLO), as production services run, instead of the KV-cache limit.

Decode: the most concurrent sequences whose TPOT meets `tpot_target_s` (default 50 ms); prefill:
the most prompts per pass whose TTFT meets `ttft_target_s` (default 2 s), up to 16K tokens per
device. Each choice keeps the whole throughput-latency curve it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# 50 ms per output token = 20 tokens/s per request: DeepSeek's production service ran at 20-22
# tokens/s per request (DeepSeek inference-system overview, 2025-03-01), and SGLang's H800 PD study
# serves under "TTFT < 2s, ITL < 50ms" (LMSYS/SGLang community study, 2025-07). Both defaults
# are overridden by workload.tpot_ms / ttft_ms or --tpot-ms / --ttft-ms.
DEFAULT_TPOT_TARGET_S = 0.050
DEFAULT_TTFT_TARGET_S = 2.0
# Prefill batches stop at 16K tokens per device: DeepSeek's prefill profile runs 16K tokens per GPU
# (deepseek-ai/profile-data) and SGLang ran out of memory above it (LMSYS blog 2025-05-05, TBO).
MAX_PREFILL_TOKENS_PER_DEVICE = 16384


@dataclass(frozen=True)
class OperatingPoint:
    """The batch a phase runs at, why, and the curve it was chosen from (SI units).
    Decode: batch = sequences per replica, latency = TPOT; prefill: batch = prompts per attention
    group per pass, latency = TTFT; rate = tokens/s per device (output or input)."""

    phase: str
    batch: float
    source: str  # "workload" (fixed by the workload), "slo" (largest within target), "fastest"
    reason: str
    target_s: float | None
    curve_batch: Array
    curve_latency_s: Array
    curve_tokens_per_s_per_device: Array


# Batches tried per doubling when searching the largest batch within a latency target.
STEPS_PER_OCTAVE = 8


def batch_grid(min_batch: float, max_batch: float, steps_per_octave: int = 1) -> Array:
    """min * 2^(i / steps) up to max, and max itself (empty if max < min); batches of whole
    multiples of min when steps > 1 (a batch is whole sequences per slot)."""
    if max_batch < min_batch:
        return np.zeros(0)
    n = int(np.floor(np.log2(max_batch / min_batch) * steps_per_octave + 1e-9)) + 1
    grid = min_batch * 2.0 ** (np.arange(n) / steps_per_octave)
    if steps_per_octave > 1:
        grid = np.unique(np.maximum(np.round(grid / min_batch), 1.0) * min_batch)
    if grid[-1] < max_batch:
        grid = np.append(grid, float(max_batch))
    return np.asarray(grid, dtype=float)


def display_rows(op: OperatingPoint) -> list[int]:
    """Indices of the curve worth printing: each doubling of the batch, the chosen one, the last."""
    b = op.curve_batch
    if b.size == 0:
        return []
    octave = np.floor(np.log2(b / b[0]) + 1e-9)
    keep = {0, b.size - 1, int(np.argmin(np.abs(b - op.batch)))}
    keep |= {int(np.flatnonzero(octave == o)[0]) for o in np.unique(octave)}
    return sorted(keep)


def choose(
    phase: str,
    grid: Array,
    latency_s: Array,
    rate: Array,
    target_s: float,
    explicit_target: bool,
    limit_text: str,
) -> OperatingPoint:
    """The largest batch of `grid` whose latency meets `target_s`; the fastest if none does."""
    ok = latency_s <= target_s
    what = "TPOT" if phase == "decode" else "TTFT"
    unit = "sequences per replica" if phase == "decode" else "prompts per attention group"
    origin = "workload target" if explicit_target else "default target"
    ms = 1e3
    if ok.any():
        i = int(np.flatnonzero(ok)[-1])
        why = (
            f"{grid[i]:,.0f} {unit}: the largest batch with {what} <= {target_s * ms:g} ms "
            f"({origin}); {what} {latency_s[i] * ms:,.1f} ms"
        )
        if i == grid.size - 1:
            why += f" ({limit_text})"
        source = "slo"
    else:
        i = int(np.argmin(latency_s))
        why = (
            f"{grid[i]:,.0f} {unit}: no batch meets {what} <= {target_s * ms:g} ms ({origin}); "
            f"the fastest batch gives {latency_s[i] * ms:,.1f} ms"
        )
        source = "fastest"
    return OperatingPoint(phase, float(grid[i]), source, why, target_s, grid, latency_s, rate)


def fixed(
    phase: str, batch: float, why: str, grid: Array, latency_s: Array, rate: Array
) -> OperatingPoint:
    """A batch the workload fixes; the curve is still kept for display."""
    return OperatingPoint(phase, batch, "workload", why, None, grid, latency_s, rate)
