"""`scalelab claims`: the seed article's twelve claims, each with scalelab's evidence and a verdict
(report/claims_ledger.py; the report's claims section is the same ledger)."""

from __future__ import annotations

import typer
from rich.markup import escape

from scalelab.cli.common import JsonOption, err, out, print_json
from scalelab.report.claims_ledger import SEED, LedgerRow, build_ledger, verdict_counts
from scalelab.report.claims_rule import RULE_TEXT

STYLE = {"holds": "green", "partly": "yellow", "does not hold": "red", "untested": "dim"}


def _print_row(r: LedgerRow) -> None:
    style = STYLE[r.verdict.label]
    out.print(f"[bold]({r.claim.id})[/bold] {escape(r.claim.stated)}")
    out.print(f"    [{style}]{escape(r.verdict.text)}[/{style}]")
    basis = f" [dim]\\[{escape(r.evidence.basis)}][/dim]" if r.evidence.basis else ""
    out.print(f"    scalelab: {escape(r.evidence.measured)}{basis}")
    if r.evidence.command != "-":
        out.print(f"    reproduce: [cyan]{escape(r.evidence.command)}[/cyan]")


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
    out.print(f"[bold]Seed-article claims[/bold] ({escape(SEED)})\n")
    for r in rows:
        _print_row(r)
    tally = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
    out.print(f"\n{len(rows)} claims: {tally}.")
    out.print(f"[dim]{escape(RULE_TEXT)}[/dim]")


def register(app: typer.Typer) -> None:
    app.command("claims")(claims)
