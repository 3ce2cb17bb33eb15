"""Helpers every command shares: JSON output, rich consoles, common options."""

from __future__ import annotations

import json
import math
from typing import Any

import typer
from rich.console import Console

from scalelab.core.errors import ConfigError
from scalelab.report.render import rich_table

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOption = typer.Option(
    False, "--json", help="Print machine-readable JSON to stdout instead of tables."
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """JSON to stdout (NaN/inf become null so any parser reads it)."""
    typer.echo(json.dumps(_clean(data), indent=2, default=str))


def require_lab() -> None:
    """Commands that run PyTorch call this first: a missing torch is one line, not a traceback."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("this command needs torch: install scalelab's 'lab' extra") from None


__all__ = ["require_lab", "JsonOption", "err", "out", "print_json", "rich_table"]
