"""Helpers every command shares: JSON output, rich consoles, common options."""

from __future__ import annotations

import importlib
import json
from typing import Any

import typer
from rich.console import Console

from scalelab.core.envelope import SCHEMA_VERSION, clean_json, envelope
from scalelab.core.errors import ConfigError
from scalelab.report.render import rich_table

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOption = typer.Option(
    False, "--json", help="Print machine-readable JSON to stdout instead of tables."
)


def _current_context() -> Any:
    """The running command's context: typer >= 0.20 vendors click (typer._click), older ones use
    click itself; whichever has a context pushed is the one running."""
    for module in ("typer._click.globals", "click.globals"):
        try:
            ctx = importlib.import_module(module).get_current_context(silent=True)
        except ImportError:
            continue
        if ctx is not None:
            return ctx
    return None


def _command_and_inputs() -> tuple[str, dict[str, Any]]:
    """The running command's path (without the program name) and its parsed arguments, read from
    click's context, so every command reports its inputs the same way without repeating them."""
    ctx = _current_context()
    if ctx is None:
        return "", {}
    parts: list[str] = []  # the subcommand names, without the program name (argv[0] varies)
    inputs: dict[str, Any] = {}
    while ctx is not None:
        if ctx.parent is not None and ctx.info_name:
            parts.insert(0, ctx.info_name)
        for key, value in ctx.params.items():
            if key != "as_json" and key not in inputs:
                inputs[key] = value
        ctx = ctx.parent
    return " ".join(parts), inputs


def print_json(results: Any) -> None:
    """`results` in the versioned envelope, to stdout (NaN/inf become null so any parser reads it)."""
    command, inputs = _command_and_inputs()
    data = envelope(results, command, inputs)
    typer.echo(json.dumps(clean_json(data), indent=2, default=str))


def require_lab() -> None:
    """Commands that run PyTorch call this first: a missing torch is one line, not a traceback."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("this command needs torch: install scalelab's 'lab' extra") from None


__all__ = [
    "SCHEMA_VERSION",
    "envelope",
    "require_lab",
    "JsonOption",
    "err",
    "out",
    "print_json",
    "rich_table",
]
