"""The one rule that turns a seed claim and scalelab's number into a verdict.

A claim is one or more quantitative parts. For each part, the distance d >= 1 between what was
claimed (C) and what scalelab measured or modeled (S) is a factor:

    "about C"     d = max(S/C, C/S)
    "at least C"  d = max(1, C/S)
    "at most C"   d = max(1, S/C)

and the part's verdict is
    holds          d <= 1.5
    partly         1.5 < d < 10  (within an order of magnitude)
    does not hold  d >= 10, or a claimed gain (C > 1, "k times better") whose S is 1 or below
    untested       scalelab has no number for it yet; the verdict names the missing capability.

A claim with several parts takes its weakest part's verdict (does not hold < partly < holds)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

Kind = Literal["about", "at least", "at most"]
HOLDS_WITHIN = 1.5
PARTLY_BELOW = 10.0
ORDER = ("does not hold", "partly", "holds")  # weakest first
RULE_TEXT = (
    "Verdict rule: d = how far scalelab's number is from the claim, as a factor (about C: "
    "max(S/C, C/S); at least C: max(1, C/S); at most C: max(1, S/C)). Holds: d <= 1.5; partly: "
    "d < 10; does not hold: d >= 10, or a claimed gain that is not a gain at all; untested: no "
    "number yet (the missing capability is named). A claim with several parts takes its weakest "
    "part's verdict."
)


@dataclass(frozen=True)
class Part:
    """One quantitative statement inside a claim; `gain`: C is a "k times better" factor."""

    quantity: str
    claimed: float
    kind: Kind
    measured: float | None
    gain: bool = False


@dataclass(frozen=True)
class Verdict:
    label: str  # holds | partly | does not hold | untested
    distance: float | None  # d of the deciding part (None when untested)
    text: str  # the label with its reason, for people
    part: str = ""  # the deciding part's quantity


def distance(part: Part) -> float:
    """d >= 1 (infinite when the measured value is zero or negative)."""
    s, c = part.measured, part.claimed
    if s is None:
        raise ValueError(f"{part.quantity}: nothing measured")
    if s <= 0 or c <= 0:
        return math.inf
    if part.kind == "about":
        return max(s / c, c / s)
    if part.kind == "at least":
        return max(1.0, c / s)
    return max(1.0, s / c)


def factor_text(d: float) -> str:
    """2.3x; 8.7 orders of magnitude beyond a hundredfold."""
    if not math.isfinite(d):
        return "no common scale"
    if d < 100:
        return f"{d:.2g}×" if d < 10 else f"{d:.0f}×"
    return f"{math.log10(d):.1f} orders of magnitude"


def judge_part(part: Part) -> Verdict:
    d = distance(part)
    if part.gain and part.claimed > 1 and part.measured is not None and part.measured <= 1:
        text = f"does not hold: a loss, not a gain ({part.measured:.2g}× where {part.claimed:g}× better was claimed)"
        return Verdict("does not hold", d, text, part.quantity)
    if d <= HOLDS_WITHIN:
        why = (
            "the bound is met" if d == 1.0 and part.kind != "about" else f"off by {factor_text(d)}"
        )
        return Verdict("holds", d, f"holds ({why})", part.quantity)
    if d < PARTLY_BELOW:
        return Verdict("partly", d, f"partly (off by {factor_text(d)})", part.quantity)
    return Verdict("does not hold", d, f"does not hold (off by {factor_text(d)})", part.quantity)


def judge(parts: tuple[Part, ...], missing: str = "") -> Verdict:
    """The claim's verdict: untested when a capability is missing, else its weakest part's."""
    if missing or not parts:
        return Verdict("untested", None, f"untested until {missing or 'a measurement'} exists")
    verdicts = [judge_part(p) for p in parts]
    worst = min(verdicts, key=lambda v: (ORDER.index(v.label), -(v.distance or 0.0)))
    if len(parts) > 1 and worst.label != "holds":
        worst = replace(worst, text=f"{worst.text}; deciding part: {worst.part}")
    return worst
