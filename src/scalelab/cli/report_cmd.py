"""`scalelab report MODEL`: the main job — a full scaling analysis in the terminal and as HTML."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from scalelab.cli.common import err, out, output_path
from scalelab.core.io import write_atomic
from scalelab.report.builder import build_report
from scalelab.report.render import render_html, render_terminal


def report(
    model: str = typer.Argument(
        "deepseek-v3", help="Catalog model id (see `scalelab model list`) or a model file."
    ),
    out_path: Path = typer.Option(
        Path("report.html"),
        "--out",
        callback=output_path(),
        help="Where to write the self-contained HTML report.",
    ),
    full: bool = typer.Option(
        False, "--full", help="Run the lab experiments at full size (slower)."
    ),
) -> None:
    """Full scaling analysis of MODEL: architecture, training, planning, serving, hardware, lab."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
    ) as bar:
        task = bar.add_task("building report", total=None)
        sections = build_report(
            model,
            quick=not full,
            on_section=lambda name: bar.update(task, description=f"section: {name}"),
        )
    render_terminal(sections, out)
    write_atomic(out_path, render_html(f"scalelab report: {model}", sections))
    out.print(f"\nHTML report written to [bold]{escape(str(out_path))}[/bold]")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
