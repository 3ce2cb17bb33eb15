"""Number formatting for humans: the only place units like GiB, ms or TFLOP/s appear."""

from __future__ import annotations

import re

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


def days(seconds_: float) -> str:
    return f"{seconds_ / 86400:,.1f} days"


def billions_short(n: float) -> str:
    """Three significant digits: 671B, 70.6B, 37.6B."""
    return f"{n / 1e9:,.3g}B"


# A cell reads as a number when it is one figure with at most a short unit around it:
# "2,048", "43.9%", "$4.99M", "0.47x", "74.5 GiB", "-23%", "9.61e-12", "624.9 GiB (8)".
_NUMBER = re.compile(
    r"^[~<>≈≤≥]?\s?[+\-−]?\$?[+\-−]?\d[\d,]*(\.\d+)?([eE][+\-]?\d+)?\s?"
    r"(%|x|×|[kKMGTBP]|[A-Za-z/]{1,6}( ?/ ?[A-Za-z]{1,6})?)?"
    r"( \(\+?[\d.,]+( ?[A-Za-z]{1,4})?\))?$"
)
_BLANK = {"", "-", "—", "n/a"}


def is_number_cell(cell: str) -> bool:
    return bool(_NUMBER.match(cell.strip()))


def column_alignments(rows: list[list[str]], num_columns: int) -> list[str]:
    """'right' for a column whose every non-blank cell is a number, else 'left'."""
    aligns = []
    for j in range(num_columns):
        cells = [r[j].strip() for r in rows if j < len(r) and r[j].strip() not in _BLANK]
        numeric = bool(cells) and all(is_number_cell(c) for c in cells)
        aligns.append("right" if numeric else "left")
    return aligns


def device_name(full_name: str) -> str:
    """A catalog device name as people say it: 'NVIDIA H800 SXM5 80GB' -> 'H800'."""
    words = [w for w in full_name.split() if w not in ("NVIDIA", "AMD", "Google", "Instinct")]
    if not words:
        return full_name
    return " ".join(words[:2]) if words[0] == "TPU" else words[0]
