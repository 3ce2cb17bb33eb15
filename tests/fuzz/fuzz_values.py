"""Value domains for the fuzz: for each kind of field or flag, a strategy of values a correct
program may accept and one of values no correct program may accept (impossible values)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# Rich markup and other awkward text a user may put in a name: valid, and must not crash output.
MARKUP = (
    "[bold]x[/bold]",
    "[/]",
    "[red",
    "a]b[c",
    "[link=file:///etc/passwd]y[/link]",
    "\\[x]",
    "[/bold]",
    "[[",
    "]]",
    "[bold]",
    ":smile: [i]",
    "%s %d {0}",
)
NAMES = st.one_of(
    st.sampled_from(MARKUP),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
        min_size=1,
        max_size=16,
    ),
)


@dataclass(frozen=True)
class Int:
    """An integer in [lo, hi]; valid values are drawn from [lo, soft] so runs stay quick."""

    lo: int
    hi: int
    soft: int | None = None


@dataclass(frozen=True)
class Float:
    """A finite float in (or on) [lo, hi]."""

    lo: float
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    soft: float | None = None


@dataclass(frozen=True)
class Choice:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class Text:
    """Any non-empty string (markup included)."""


@dataclass(frozen=True)
class Fixed:
    """Fixed alternatives: valid ones and impossible ones."""

    valid: tuple[Any, ...]
    bad: tuple[Any, ...] = ()


Domain = Int | Float | Choice | Bool | Text | Fixed

NOT_SCALAR = ([1, 2], {"x": 1})


def valid(d: Domain) -> st.SearchStrategy[Any]:
    """Values inside the domain (a correct program may still reject a combination of them)."""
    if isinstance(d, Int):
        top = d.hi if d.soft is None else min(d.hi, d.soft)
        return st.one_of(st.integers(d.lo, top), st.sampled_from((d.lo, top)))
    if isinstance(d, Float):
        top = d.hi if d.soft is None else min(d.hi, d.soft)
        return st.floats(
            d.lo,
            top,
            exclude_min=d.lo_open,
            exclude_max=d.hi_open,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
        )
    if isinstance(d, Choice):
        return st.sampled_from(d.values)
    if isinstance(d, Bool):
        return st.booleans()
    if isinstance(d, Text):
        return NAMES
    return st.sampled_from(d.valid)


def bad(d: Domain) -> st.SearchStrategy[Any]:
    """Values outside the domain: wrong type, non-finite, out of range, unknown name."""
    if isinstance(d, Int):
        out: list[Any] = [d.lo - 1, d.hi + 1, 10**30, -(10**30), 2.5, math.nan, math.inf]
        out += [True, False, "7", *NOT_SCALAR]
        return st.sampled_from(out)
    if isinstance(d, Float):
        out = [math.nan, math.inf, -math.inf, True, "1.5", *NOT_SCALAR]
        out.append(d.lo if d.lo_open else d.lo - 1 - abs(d.lo))
        if math.isfinite(d.hi):
            out.append(d.hi if d.hi_open else d.hi * 2 + 1)
        return st.sampled_from(out)
    if isinstance(d, Choice):
        return st.sampled_from(["bogus-name", "", 3, True, ["x"], {"x": 1}])
    if isinstance(d, Bool):
        return st.sampled_from([1, 0, "yes", "true", 2.5, ["x"]])
    if isinstance(d, Text):
        return st.sampled_from([7, 2.5, True, *NOT_SCALAR])
    return st.sampled_from(d.bad)


def has_bad(d: Domain) -> bool:
    return not (isinstance(d, Fixed) and not d.bad)


# ---- command-line values: strings ------------------------------------------------------------


def cli_valid(d: Domain) -> st.SearchStrategy[str]:
    return valid(d).map(_cli_text)


def cli_bad(d: Domain) -> st.SearchStrategy[str]:
    """Impossible flag values as typed on a command line."""
    if isinstance(d, Int):
        vals = [str(d.lo - 1), str(d.hi + 1), "1e400", "nan", "abc", "", "2.5", str(10**30)]
        return st.sampled_from(vals)
    if isinstance(d, Float):
        vals = ["nan", "inf", "-inf", "1e400", "abc", ""]
        vals.append(_cli_text(d.lo) if d.lo_open else _cli_text(d.lo - 1 - abs(d.lo)))
        if math.isfinite(d.hi):
            vals.append(_cli_text(d.hi) if d.hi_open else _cli_text(d.hi * 2 + 1))
        return st.sampled_from(vals)
    if isinstance(d, Choice):
        return st.sampled_from(["bogus-name", "", "[bold]x"])
    if isinstance(d, Fixed):
        return st.sampled_from([str(b) for b in d.bad])
    return st.nothing()


def _cli_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


# ---- documents: mutate a valid mapping field by field ----------------------------------------

Path = tuple[str | int, ...]


def get_path(doc: Any, path: Path) -> Any:
    for key in path:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif isinstance(doc, list) and isinstance(key, int) and key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def set_path(doc: dict[str, Any], path: Path, value: Any) -> bool:
    """Set `path` in `doc`, creating tables on the way; False when a parent is not a table."""
    node: Any = doc
    for key in path[:-1]:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            continue
        if not isinstance(node, dict) or isinstance(key, int):  # an index needs its list
            return False
        node = node.setdefault(key, {})
    if isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        node[path[-1]] = value
        return True
    if not isinstance(node, dict) or isinstance(path[-1], int):
        return False
    node[path[-1]] = value
    return True


def del_path(doc: dict[str, Any], path: Path) -> None:
    parent = get_path(doc, path[:-1]) if len(path) > 1 else doc
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


@dataclass(frozen=True)
class Doc:
    """A generated document and, if any, the impossible value it holds."""

    data: dict[str, Any]
    impossible: str = ""


@st.composite
def mutated(
    draw: st.DrawFn,
    base: dict[str, Any],
    fields: dict[Path, Domain],
    tables: tuple[Path, ...] = (),
    required: tuple[Path, ...] = (),
    max_changes: int = 3,
) -> Doc:
    """`base` with up to `max_changes` changes: a field set to a valid or an impossible value, a
    table replaced by a scalar or a list, an unknown key, a required entry removed, an optional
    one removed. Records the impossible changes that survive later ones."""
    doc = copy.deepcopy(base)
    reasons: dict[Path, str] = {}
    keys = sorted(fields, key=str)
    for _ in range(draw(st.integers(0, max_changes))):
        action = draw(st.sampled_from(["valid", "valid", "bad", "bad", "structure"]))
        if action in ("valid", "bad") and keys:
            path = draw(st.sampled_from(keys))
            dom = fields[path]
            if action == "bad" and not has_bad(dom):
                action = "valid"
            value = draw(valid(dom) if action == "valid" else bad(dom))
            if not set_path(doc, path, value):
                continue
            _forget(reasons, path)
            if action == "bad":
                reasons[path] = f"{_dotted(path)} = {value!r}"
            continue
        kind = draw(st.sampled_from(["table", "unknown", "required", "optional"]))
        if kind == "table" and tables:
            path = draw(st.sampled_from(tables))
            value = draw(st.sampled_from(["text", 5, [1, 2], True, 2.5]))
            if set_path(doc, path, value):
                _forget(reasons, path)
                reasons[path] = f"table {_dotted(path)} = {value!r}"
        elif kind == "unknown":
            parent = draw(st.sampled_from(((),) + tables))
            target = get_path(doc, parent) if parent else doc
            if isinstance(target, dict):
                target["no_such_field_x"] = 1
                reasons[(*parent, "no_such_field_x")] = f"unknown key in {_dotted(parent) or 'top'}"
        elif kind == "required" and required:
            path = draw(st.sampled_from(required))
            if get_path(doc, path) is not None:
                del_path(doc, path)
                _forget(reasons, path)
                reasons[path] = f"missing {_dotted(path)}"
        elif kind == "optional" and keys:
            path = draw(st.sampled_from(keys))
            if path not in required and path[:1] not in required:
                del_path(doc, path)
                _forget(reasons, path)
    return Doc(doc, "; ".join(reasons.values()))


def _forget(reasons: dict[Path, str], path: Path) -> None:
    """A change at `path` replaces earlier changes at, under or above it."""
    n = len(path)
    for p in list(reasons):
        if p[:n] == path or path[: len(p)] == p:
            del reasons[p]


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)
