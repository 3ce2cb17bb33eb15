"""Helpers every command shares: JSON output, rich consoles, common options."""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape

from scalelab.core.bounds import finite_in
from scalelab.core.envelope import SCHEMA_VERSION, clean_json, envelope
from scalelab.core.errors import ConfigError
from scalelab.core.site import CO2_FLAG, PRICE_FLAG, Site
from scalelab.core.specs import TrainWorkload
from scalelab.report import render
from scalelab.report.section import Table

WHOLE_BUDGET = 40  # characters of an 80-column line that never-cut id columns may claim


_NUMBER = re.compile(r"^[~<>≈]?[$+\-−]?\d[\d,.]*(e[+-]?\d+)?\s?[%xkMGTB]?( ?[A-Za-z/]{1,4})?$")


def _is_number(cell: str) -> bool:
    """A figure with at most a short unit ("2,048", "43.9%", "$4.99M", "74.5 GiB") or "-"."""
    return cell.strip() in ("-", "") or bool(_NUMBER.match(cell.strip()))


def rich_table(table: Table) -> Any:
    """report.render's table for the terminal, with the names users type (case and catalog ids,
    plan labels: a column of one-token cells, the first line of each cell) never cut: those
    columns keep their width while WHOLE_BUDGET lasts, every other cell folds onto more lines."""
    rt = render.rich_table(table)
    rt.box = box.SIMPLE_HEAD  # no vertical rules: two more characters per column for content
    rt.pad_edge = False
    budget = WHOLE_BUDGET
    for j, column in enumerate(rt.columns):
        heads = [row[j].split("\n")[0] for row in table.rows if j < len(row) and row[j]]
        width = max(map(len, heads), default=0)
        names = [h for h in heads if h != "-"]
        whole = (
            bool(names)
            and all(" " not in h and any(c.isalpha() for c in h) for h in names)
            and width <= budget
        )
        numeric = bool(heads) and all(map(_is_number, heads))
        if whole:
            budget -= width
            column.min_width = width
            # one-line cells may not wrap at all; a second line (details) wraps under the name
            column.no_wrap = all("\n" not in row[j] for row in table.rows if j < len(row))
        column.overflow = "fold"
        column.justify = "right" if numeric else "left"
    return rt


out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOption = typer.Option(
    False, "--json", help="Print machine-readable JSON to stdout instead of tables."
)


# The envelope and its NaN-free cleaning live in core/envelope.py (the web page uses them too).
_clean = clean_json


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
    one-line usage error naming the flag (core/bounds.py words it, as the web page does)."""

    def check(value: Any) -> Any:
        if value is None:
            return value
        try:
            return finite_in(value, gt=gt, ge=ge, lt=lt, le=le)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

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


PriceOption = typer.Option(
    None,
    PRICE_FLAG,
    help="Price of a device-hour in USD: one number for every accelerator, or ID=PRICE,... "
    "(e.g. h100=2.5,b200=4). Default: the catalog's (`scalelab hardware show ID` cites it).",
)
Co2Option = typer.Option(
    None,
    CO2_FLAG,
    help="Carbon intensity of the site's electricity, kg CO2 per kWh "
    "(default 0.45, the IEA world average; hydro or nuclear sites ~0.02-0.05).",
)


def site_from_flags(price: str | None, co2: float | None) -> Site:
    """The --price-usd-per-hour / --co2-kg-per-kwh overrides (empty when neither is given)."""
    return Site.from_flags(price, co2)


def batch_line(workload: TrainWorkload) -> str:
    """The batch a training command actually uses, in sequences and tokens."""
    tokens = workload.tokens_per_step
    return (
        f"batch: {workload.global_batch_size:,} sequences x {workload.seq_len:,} tokens = "
        f"{tokens:,} tokens per step ({tokens / 1e6:,.2f}M)"
    )


def examples(*commands: str) -> str:
    """The Examples block of a command's --help (its typer epilog), one command per paragraph so
    every typer version keeps them apart. tests/cli/test_help_examples.py runs each of them in a
    scratch folder holding a copy of examples/, so they must work as written."""
    return "Examples:\n\n" + "\n\n".join(escape(c) for c in commands)


def require_lab() -> None:
    """Commands that run PyTorch call this first: a missing torch is one line, not a traceback."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("this command needs torch: install scalelab's 'lab' extra") from None


__all__ = [
    "SCHEMA_VERSION",
    "envelope",
    "choice",
    "finite",
    "MAX_SEED",
    "output_path",
    "require_lab",
    "JsonOption",
    "PriceOption",
    "Co2Option",
    "batch_line",
    "examples",
    "site_from_flags",
    "err",
    "out",
    "print_json",
    "rich_table",
]
