"""A small HTML reader for the report tests (stdlib html.parser): elements by id and class, table
cells with their alignment class, image sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# A right-aligned cell must read as a number: digits with at most a short unit or sign around it.
NUMBERISH = re.compile(
    r"^[~<>$+\-−]?\$?[+\-]?[\d.,]+(e[+-]?\d+)?\s?[A-Za-z%×/]{0,6}( \([+\d.,]+ ?\w{0,4}\))?$"
)


@dataclass
class Cell:
    text: str
    right: bool
    header: bool


@dataclass
class Page(HTMLParser):
    ids: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    nav_links: list[str] = field(default_factory=list)
    tables: list[list[list[Cell]]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    _stack: list[str] = field(default_factory=list)
    _cell: Cell | None = None
    _in_nav: int = 0

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        self.classes += (a.get("class") or "").split()
        for key in ("href", "src"):
            if (a.get(key) or "").startswith(("http:", "https:", "//")):
                self.external.append(a[key])
        if tag == "nav":
            self._in_nav += 1
        if tag == "a" and self._in_nav and a.get("href", "").startswith("#"):
            self.nav_links.append(a["href"][1:])
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = Cell("", "r" in (a.get("class") or "").split(), tag == "th")
        elif tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "script":
            self.external.append("<script>")

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag == "nav":
            self._in_nav -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):  # noqa: ANN001
        if self._cell is not None:
            self._cell.text += data


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def right_aligned_text_cells(page: Page) -> list[str]:
    """Body cells aligned right although they are not numbers (what the report must never do)."""
    bad = []
    for table in page.tables:
        for row in table:
            for cell in row:
                text = cell.text.strip()
                if (
                    cell.right
                    and not cell.header
                    and text not in ("", "-")
                    and not NUMBERISH.match(text)
                ):
                    bad.append(text)
    return bad
