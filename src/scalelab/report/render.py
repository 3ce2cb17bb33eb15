"""Render report sections to the terminal (rich): one section at a time, so `scalelab report` can
print each as soon as it is built. The HTML document is report/html.py."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table as RichTable

from scalelab.report.fmt import column_alignments
from scalelab.report.section import KeyNumber, Section, Table

WHOLE_TOKEN_BUDGET = 40  # characters of an 80-column terminal that unbreakable id columns may claim


def table_alignments(table: Table) -> list[str]:
    """The table's own alignment, or numbers right and text left, decided per column."""
    return list(table.align or column_alignments(table.rows, len(table.columns)))


def rich_table(table: Table) -> RichTable:
    """A report Table as a rich table: text columns left-aligned, number columns right-aligned."""
    rt = RichTable(
        title=escape(table.title),
        title_justify="left",
        caption=escape(table.note) if table.note else None,
        caption_justify="left",
    )
    budget = WHOLE_TOKEN_BUDGET
    for j, (col, align) in enumerate(zip(table.columns, table_alignments(table), strict=True)):
        cells = [r[j] for r in table.rows if j < len(r) and r[j]]
        # a text column of single tokens (ids, plan labels) keeps them whole while the budget
        # lasts; everything else folds rather than being cut with an ellipsis
        width = max(map(len, cells), default=0)
        whole = (
            align == "left" and bool(cells) and all(" " not in c for c in cells) and width <= budget
        )
        budget -= width if whole else 0
        rt.add_column(
            escape(col),
            justify="right" if align == "right" else "left",
            overflow="fold",
            no_wrap=whole,
            min_width=width if whole else None,
        )
    for row in table.rows:
        rt.add_row(*(escape(cell) for cell in row))
    return rt


def render_records(table: Table, console: Console) -> None:
    """Each row as a block: the first two cells as a heading, the others as `column: value`."""
    console.print(f"[bold]{escape(table.title)}[/bold]")
    for row in table.rows:
        console.print(f"[bold]{escape(' '.join(c for c in row[:2] if c))}[/bold]")
        for col, cell in zip(table.columns[2:], row[2:], strict=False):
            if cell and cell != "-":
                console.print(Padding(f"[dim]{escape(col)}:[/dim] {escape(cell)}", (0, 0, 0, 4)))
    if table.note:
        console.print(f"[dim]{escape(table.note)}[/dim]")


def print_table(table: Table, console: Console) -> None:
    """A table in the layout it asks for (grid or records)."""
    if table.terminal_layout == "records":
        render_records(table, console)
    else:
        console.print(rich_table(table))


def render_section(section: Section, console: Console, number: int | None = None) -> None:
    """Title, summary and tables of one section; figures are listed by caption (HTML only)."""
    head = f"{number}. {section.title}" if number is not None else section.title
    console.print(Rule(f"[bold]{escape(head)}"))
    if section.summary:
        console.print(escape(section.summary))
    for table in section.tables:
        if table.terminal:
            print_table(table, console)
        else:
            console.print(f"[dim]table (in the HTML report): {escape(table.title)}[/dim]")
    for fig in section.figures:
        console.print(f"[dim]figure (in the HTML report): {escape(fig.caption)}[/dim]")


def render_terminal(sections: list[Section], console: Console) -> None:
    """Every section, numbered as in the HTML contents."""
    for i, section in enumerate(sections, start=1):
        render_section(section, console, i)


def render_headline(numbers: list[tuple[KeyNumber, str]], console: Console) -> None:
    """The headline box as a two-column table: what, value (and what it compares to)."""
    rt = RichTable(title="At a glance", title_justify="left", show_header=False)
    rt.add_column("what", justify="left")
    rt.add_column("value", justify="left")
    for key, _section in numbers:
        detail = f" [dim]({escape(key.detail)})[/dim]" if key.detail else ""
        rt.add_row(escape(key.label), f"[bold]{escape(key.value)}[/bold]{detail}")
    console.print(rt)
