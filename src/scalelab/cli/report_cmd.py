"""`scalelab report MODEL`: the main job — a full scaling analysis, streamed to the terminal section
by section, then written as one self-contained HTML file and a results.json beside it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from scalelab.cli.common import _clean, envelope, err, examples, out, output_path
from scalelab.core.io import write_atomic
from scalelab.report.builder import iter_report, new_context
from scalelab.report.document import headline, lead_sentence, overview_tables, results_document
from scalelab.report.html import render_html
from scalelab.report.provenance import collect
from scalelab.report.render import render_headline, render_section, rich_table
from scalelab.report.section import Section

MODEL_FILE_SUFFIXES = (".toml", ".json", ".yaml", ".yml")


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
    results_path: Path | None = typer.Option(
        None,
        "--results",
        callback=output_path(),
        help="Where to write every number shown, as JSON (default: results.json beside --out).",
    ),
    full: bool = typer.Option(
        False, "--full", help="Run the lab experiments at full size (slower)."
    ),
) -> None:
    """Full scaling analysis of MODEL: architecture, training, planning, serving, hardware, lab,
    the seed article's claims and validation. Sections print as they finish."""
    ctx = new_context(model, quick=not full)
    source = f"file {model}" if Path(model).suffix in MODEL_FILE_SUFFIXES else "catalog"
    lab = "full size (--full)" if full else "quick (without --full)"
    provenance = collect(model, source, {"lab experiments": lab})
    sections: list[Section] = []
    elapsed: dict[str, float] = {}

    def started(i: int, n: int, name: str) -> None:
        err.print(f"[dim]\\[{i}/{n}] building {name}...[/dim]")

    for section, seconds in iter_report(ctx, started):
        sections.append(section)
        elapsed[section.id] = seconds
        render_section(section, out, len(sections))
    numbers = headline(sections)
    overview = overview_tables(ctx, sections)
    lead = lead_sentence(sections)
    out.print()
    render_headline(numbers, out)
    for table in overview:
        out.print(rich_table(table))
    title = f"scalelab report: {ctx.model.name}"
    write_atomic(out_path, render_html(title, sections, provenance, numbers, lead, overview))
    doc = envelope(results_document(ctx, sections, provenance, elapsed), "report",
                   {"model": model, "out_path": str(out_path), "full": full})  # fmt: skip
    json_path = results_path or out_path.with_name("results.json")
    write_atomic(json_path, json.dumps(_clean(doc), indent=1, default=str) + "\n")
    out.print(
        f"\nHTML report written to [bold]{escape(str(out_path))}[/bold]; every number in "
        f"[bold]{escape(str(json_path))}[/bold]"
    )


def register(app: typer.Typer) -> None:
    app.command(
        "report",
        epilog=examples(
            "scalelab report deepseek-v3 --out report.html",
            "scalelab report llama-3.1-70b --out llama-70b.html",
        ),
    )(report)
