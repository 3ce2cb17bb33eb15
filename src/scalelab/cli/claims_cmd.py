"""`scalelab claims`: the seed article's twelve claims, each with scalelab's evidence and a verdict
(report/claims_ledger.py; the report's claims section is the same ledger)."""

from __future__ import annotations

import typer
from rich.markup import escape

from scalelab.cli.common import JsonOption, err, examples, out, print_json
from scalelab.report.claims_ledger import SEED, build_ledger, ledger_table, verdict_counts
from scalelab.report.claims_rule import RULE_TEXT
from scalelab.report.render import render_records


def claims(as_json: bool = JsonOption) -> None:
    """The seed article's twelve claims: what scalelab measured or modeled, the command that
    reproduces it, and a verdict from one written rule."""
    if not as_json:
        err.print("[dim]measuring gradient flow and evaluating the model (a few seconds)...[/dim]")
    rows = build_ledger()
    counts = verdict_counts(rows)
    if as_json:
        print_json(
            {"seed": SEED, "rule": RULE_TEXT, "verdict_counts": counts,
             "claims": [r.to_dict() for r in rows]}
        )  # fmt: skip
        return
    out.print(f"Source: {escape(SEED)}\n")
    render_records(ledger_table(rows), out)  # the same table as the report's claims section
    tally = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
    out.print(f"\n{len(rows)} claims: {tally}.")


def register(app: typer.Typer) -> None:
    app.command("claims", epilog=examples("scalelab claims", "scalelab claims --json"))(claims)
