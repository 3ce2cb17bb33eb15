"""Number formatting for humans: the only place units like GiB, ms or TFLOP/s appear."""

from __future__ import annotations

GIB = 2**30


def si(value: float, digits: int = 4) -> str:
    """Compact engineering notation: 6.71e+11 -> '671.0G', 0.0147 -> '14.70m'."""
    if value == 0:
        return "0"
    prefixes = [
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1, ""),
        (1e-3, "m"),
        (1e-6, "u"),
        (1e-9, "n"),
    ]
    mag = abs(value)
    for scale, p in prefixes:
        if mag >= scale:
            return f"{value / scale:.{digits}g}{p}"
    return f"{value:.3g}"


def gib(nbytes: float) -> str:
    return f"{nbytes / GIB:,.1f} GiB"


def billions(n: float) -> str:
    return f"{n / 1e9:,.1f} B"


def pct(frac: float, digits: int = 1) -> str:
    return f"{100 * frac:.{digits}f}%"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def seconds(s: float) -> str:
    return f"{s:,.2f} s"
