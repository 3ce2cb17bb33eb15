"""`scalelab validate`: score every prediction against published and measured figures."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from scalelab.cli.common import JsonOption, examples, out, print_json, rich_table
from scalelab.report.validation import validation_tables
from scalelab.validate.runner import run_cases, to_json


def validate(
    cases: Path = typer.Option(
        None,
        "--cases",
        help="A case file in the scalelab-validation/1 schema (default: the shipped public.yaml and calculon-t5.yaml).",
    ),
    kind: str = typer.Option(
        None, "--kind", help="Only cases of this kind: model, train, inference, network, energy."
    ),
    as_json: bool = JsonOption,
    strict: bool = typer.Option(False, "--strict", help="Exit 1 unless every case passes."),
) -> None:
    """Run validation cases: predicted vs expected, relative error, PASS/FAIL against each case's tolerance."""
    results = run_cases(cases, kind)
    report = to_json(results)
    if as_json:
        print_json(report)
    else:
        for table in validation_tables(results, report["median_rel_error"]):
            out.print(rich_table(table))
        for name, medians in report["median_rel_error_by_file"].items():
            parts = ", ".join(f"{k} {100 * v:.1f}%" for k, v in medians.items() if v is not None)
            out.print(f"median relative error in {escape(name)}: {parts}", highlight=False)
    if strict and report["summary"]["pass"] != len(results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command(
        "validate",
        epilog=examples(
            "scalelab validate",
            "scalelab validate --kind model --json",
            "scalelab validate --kind train --strict",
        ),
    )(validate)
