"""Helpers every command shares: JSON output, rich consoles, common options."""

from __future__ import annotations

import importlib
import json
import math
import operator
import os
from collections.abc import Callable
from pathlib import Path
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


SCHEMA_VERSION = 1


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


def envelope(results: Any, command: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The one JSON shape every command prints (docs/json.md)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "inputs": inputs,
        "results": results,
    }


def print_json(results: Any) -> None:
    """`results` in the versioned envelope, to stdout (NaN/inf become null so any parser reads it)."""
    command, inputs = _command_and_inputs()
    data = envelope(results, command, inputs)
    typer.echo(json.dumps(_clean(data), indent=2, default=str))


# Seeds: numpy, torch and scikit-learn all take 0..2^32-1.
MAX_SEED = 2**32 - 1


def finite(
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Callable[[Any], Any]:
    """An option callback: the value (when given) is a finite number within the bounds, else a
    one-line usage error naming the flag. Click's FloatRange lets NaN through every bound."""
    bounds = [(gt, ">", operator.gt), (ge, ">=", operator.ge), (lt, "<", operator.lt),
              (le, "<=", operator.le)]  # fmt: skip

    def check(value: Any) -> Any:
        if value is None:
            return value
        if not math.isfinite(value):
            raise typer.BadParameter(f"must be a finite number, got {value}")
        for bound, sign, holds in bounds:
            if bound is not None and not holds(value, bound):
                raise typer.BadParameter(f"must be {sign} {bound:g}, got {value:g}")
        return value

    return check


def choice(*values: str) -> Callable[[Any], Any]:
    """An option callback: the value (when given) is one of `values` (a one-line usage error
    listing them otherwise), for options whose choices live in the specs (dtypes)."""

    def check(value: Any) -> Any:
        if value is not None and value not in values:
            raise typer.BadParameter(f"must be one of {', '.join(values)}, got '{value}'")
        return value

    return check


def output_path(*suffixes: str, folder: bool = False) -> Callable[[Any], Any]:
    """An option callback for a path the command will write: checked before any work, so a run
    of minutes does not end in 'is a directory' (a folder where a file is wanted, a file where a
    folder is wanted, or a suffix other than `suffixes`)."""

    def check(value: Any) -> Any:
        if value is None:
            return value
        path = Path(value)
        if not folder and path.is_dir():
            raise typer.BadParameter(f"{path} is a directory; give a file name")
        if folder and path.exists() and not path.is_dir():
            raise typer.BadParameter(f"{path} is a file; give a directory")
        if suffixes and path.suffix.lower() not in suffixes:
            raise typer.BadParameter(f"{path} must end in {' or '.join(suffixes)}")
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise typer.BadParameter(f"cannot write under {parent}")
        return value

    return check


def require_lab() -> None:
    """Commands that run PyTorch call this first: a missing torch is one line, not a traceback."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("this command needs torch: install scalelab's 'lab' extra") from None


__all__ = [
    "envelope",
    "choice",
    "finite",
    "MAX_SEED",
    "output_path",
    "require_lab",
    "JsonOption",
    "err",
    "out",
    "print_json",
    "rich_table",
]
