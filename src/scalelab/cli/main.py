"""The `scalelab` command: one typer app; each command group lives in its own thin module."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from scalelab.core.errors import ScalelabError


def _flags_show_no_type() -> None:
    """typer's rich help (the versions that vendor click) prints a type after every option, flags
    too: `--json <bool>`. A flag takes no value, so it shows none, as click's plain help does.
    Older typer has no such method and already hides it."""
    try:
        from typer.core import TyperOption
    except ImportError:
        return
    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "scalelab_flags", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else original(self, ctx)

    display_type_rich.scalelab_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()

app = typer.Typer(
    help="scalelab: plan, predict and measure the scaling of large language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module exposes `register(app)`. Listed explicitly so `--help` order is stable.
COMMAND_MODULES = [
    "scalelab.cli.report_cmd",
    "scalelab.cli.model_cmd",
    "scalelab.cli.hardware_cmd",
    "scalelab.cli.validate_cmd",
    "scalelab.cli.predict_cmd",
    "scalelab.cli.plan_cmd",
    "scalelab.cli.predict_infer_cmd",
    "scalelab.cli.plan_serve_cmd",
    "scalelab.cli.whatif_cmd",
    "scalelab.cli.network_cmd",
    "scalelab.cli.place_cmd",
    "scalelab.cli.lab_cmd",
    "scalelab.cli.calibrate_cmd",
    "scalelab.cli.data_cmd",
    "scalelab.cli.compress_cmd",
    "scalelab.cli.claims_cmd",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _click_module_classes(name: str) -> tuple[type, ...]:
    """`name` (ClickException, Exit, Abort) from click and from typer's vendored copy, if present."""
    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


CLICK_ERRORS = _click_module_classes("ClickException")
CLICK_EXITS = _click_module_classes("Exit")
CLICK_ABORTS = _click_module_classes("Abort")


def _fail(message: str) -> None:
    Console(stderr=True).print(
        f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True
    )
    sys.exit(1)


def run() -> None:
    """Console-script entry point: bad input becomes one line on stderr and exit code 1."""
    try:
        code = app(prog_name="scalelab", standalone_mode=False)  # Exit(n) comes back as the value
        if isinstance(code, int) and code:
            sys.exit(code)
    except ScalelabError as exc:
        _fail(escape(str(exc)))
    except CLICK_EXITS as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except CLICK_ABORTS:
        sys.exit(1)
    except CLICK_ERRORS as exc:  # usage errors: unknown option, bad value, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group called bare: its help was shown
            sys.exit(0)
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        _fail(escape(f"{where}{exc.format_message()}{hint}"))
