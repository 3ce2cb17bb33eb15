"""The data a report section hands to the renderers (terminal and HTML); no formatting here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """A table of already-formatted cells (strings); units belong in the column titles."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    terminal: bool = True  # False: long tables shown in the HTML report only


@dataclass(frozen=True)
class Figure:
    """A PNG image (bytes) with a caption; rendered inline in HTML, listed in the terminal."""

    caption: str
    png: bytes


@dataclass
class Section:
    """One chapter of `scalelab report`: prose, tables, figures and machine-readable numbers."""

    title: str
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
