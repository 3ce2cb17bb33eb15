"""The one versioned JSON shape every machine-readable output uses (`--json` and the web API)."""

from __future__ import annotations

import math
from typing import Any

SCHEMA_VERSION = 1


def clean_json(value: Any) -> Any:
    """`value` with NaN/inf as None and keys as strings, so any JSON parser reads it."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def envelope(results: Any, command: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """`{schema_version, command, inputs, results}` (docs/web.md and the CLI's --json)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "inputs": inputs,
        "results": results,
    }
