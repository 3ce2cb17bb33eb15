"""`kind: inference` metrics (not modeled yet: every metric is reported as unsupported)."""

from __future__ import annotations

from typing import Any


def compute(case: dict[str, Any]) -> dict[str, float]:
    """No inference metrics yet."""
    return {}
