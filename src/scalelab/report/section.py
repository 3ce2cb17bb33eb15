"""The data a report section hands to the renderers (terminal and HTML); no formatting here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Align = Literal["left", "right"]


@dataclass(frozen=True)
class Table:
    """A table of already-formatted cells (strings); units belong in the column titles.

    Alignment is decided per column from its content (numbers right, text left) unless `align`
    names it for every column."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""  # line breaks are kept by both renderers
    terminal: bool = True  # False: long tables shown in the HTML report only
    align: list[Align] | None = None
    # "records": the terminal prints each row as a short block (first two cells as its heading,
    # then "column: value" lines) instead of a grid, for tables of long text
    terminal_layout: Literal["grid", "records"] = "grid"


@dataclass(frozen=True)
class Figure:
    """An image with a caption: SVG (preferred, from report/plots.py) or PNG bytes; rendered inline in
    HTML, listed by caption in the terminal."""

    caption: str
    image: bytes


@dataclass(frozen=True)
class KeyNumber:
    """One number worth a headline: `value` is already formatted, `detail` says what it compares to."""

    label: str
    value: str
    detail: str = ""


@dataclass
class Section:
    """One chapter of `scalelab report`: prose, tables, figures and machine-readable numbers."""

    title: str
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    key_numbers: list[KeyNumber] = field(default_factory=list)  # the headline box draws from these
    id: str = ""  # anchor and results.json key; the builder sets it to the section's module name
