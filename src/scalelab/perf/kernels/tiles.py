"""GEMM tile geometry shared by the kernel model (perf/kernels/timing.py) and its fit (perf/kernels/calibration.py):
how much math a GEMM costs once its output is cut into tiles and the tiles into waves of SMs."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

GEMM_TILE_M, GEMM_TILE_N = 128, 256  # CUTLASS/cuBLAS large bf16/fp8 tile on Ampere/Hopper


def wave_efficiency(tiles: ArrayLike, num_sms: int | None) -> Array:
    """Busy fraction of the last wave when output tiles outnumber the SMs: tiles / (waves * SMs)
    (NVIDIA Matrix Multiplication Background User's Guide, "wave quantization"); problems smaller
    than one wave are assumed to be split (split-K / smaller tiles) to fill the device."""
    t = np.asarray(tiles, dtype=float)
    if not num_sms:
        return np.ones_like(t)
    waves = np.ceil(t / num_sms)
    return np.where(t > num_sms, t / np.maximum(waves * num_sms, 1.0), 1.0)


def effective_gemm_flops(
    m: ArrayLike, n: ArrayLike, k: ArrayLike, groups: ArrayLike, num_sms: int | None
) -> Array:
    """FLOPs a device pays for `groups` (m x k) @ (k x n) GEMMs at its full rate: 2mnk g / wave
    efficiency. Once the tiles fill more than one wave, a dimension that spans several tiles is
    rounded up to whole tiles (same guide, "tile quantization": a partial tile costs a whole one); a
    dimension smaller than one tile is taken as is (the library picks a narrower tile)."""
    m, n, k, g = (np.asarray(x, dtype=float) for x in (m, n, k, groups))
    rows, cols = np.ceil(m / GEMM_TILE_M), np.ceil(n / GEMM_TILE_N)
    tiles = rows * cols * g
    multi_wave = tiles > (num_sms or np.inf)
    m_eff = np.where(multi_wave & (rows > 1), rows * GEMM_TILE_M, m)
    n_eff = np.where(multi_wave & (cols > 1), cols * GEMM_TILE_N, n)
    return 2.0 * m_eff * n_eff * k * g / wave_efficiency(tiles, num_sms)
