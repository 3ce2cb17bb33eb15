"""The `scalelab` command: one typer app; each command group lives in its own thin module."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from scalelab.core.errors import ScalelabError

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
    "scalelab.cli.network_cmd",
    "scalelab.cli.place_cmd",
    "scalelab.cli.lab_cmd",
    "scalelab.cli.calibrate_cmd",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def run() -> None:
    """Console-script entry point: any ScalelabError becomes one line on stderr and exit 1."""
    try:
        code = app(standalone_mode=False)  # typer.Exit(n) comes back as the return value
        if isinstance(code, int) and code:
            sys.exit(code)
    except ScalelabError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(1 if exc.exit_code == 2 else exc.exit_code)
        raise
