"""Checks every user mapping passes before pydantic reads it (core/io.build calls `lax_value`):
pydantic's lax mode would read `tp = true` as 1, `num_layers = "7"` as 7 and `activation = 1`
as True, and a `dict[str, Any]` field would keep NaN. Here a number must be a number, a switch
true or false, and every float anywhere in the input finite."""

from __future__ import annotations

import math
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


def lax_value(model: type[BaseModel], data: Any) -> str | None:
    """The first value of `data` that pydantic would only accept by converting it, as
    `field.path: what is wrong`; None when there is none."""
    if not isinstance(data, dict):
        return None
    for name, info in model.model_fields.items():
        if name in data:
            problem = _check(info.annotation, data[name], name)
            if problem:
                return problem
    return None


def _check(annotation: Any, value: Any, loc: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{loc}: {value} is not a finite number"
    if isinstance(value, BaseModel):
        return None
    kinds = _kinds(annotation)
    if isinstance(value, bool):
        if kinds & {"int", "float"} and "bool" not in kinds:
            return f"{loc}: expected a number, got {str(value).lower()}"
        return None
    if kinds == {"bool"}:
        return f"{loc}: expected true or false, got {value!r}"
    if isinstance(value, str) and kinds & {"int", "float"} and not kinds & {"str", "any"}:
        return f"{loc}: expected a number, got '{value}'"
    return _check_inner(annotation, value, loc)


def _check_inner(annotation: Any, value: Any, loc: str) -> str | None:
    """Nested models, lists, tuples and dicts: their members are checked the same way."""
    for arg in _members(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and isinstance(value, dict):
            problem = lax_value(arg, value)
            return f"{loc}.{problem}" if problem else None
    origin = get_origin(_strip_optional(annotation))
    args = get_args(_strip_optional(annotation))
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            inner = args[i] if origin is tuple and i < len(args) and args[-1] is not ... else None
            inner = inner if inner is not None else (args[0] if args else Any)
            problem = _check(inner, item, f"{loc}[{i}]")
            if problem:
                return problem
    elif isinstance(value, dict):
        inner = args[1] if origin is dict and len(args) == 2 else Any
        for key, item in value.items():
            problem = _check(inner, item, f"{loc}.{key}")
            if problem:
                return problem
    return None


def _strip_optional(annotation: Any) -> Any:
    """`X | None` -> X when exactly one other member remains."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _kinds(annotation: Any) -> set[str]:
    """What scalar kinds `annotation` admits: int, float, bool, str, any (containers: none)."""
    found: set[str] = set()
    for arg in _members(annotation):
        if arg is Any:
            found.add("any")
        elif get_origin(arg) is Literal:
            for v in get_args(arg):
                found.add("bool" if isinstance(v, bool) else type(v).__name__)
        elif arg is bool:
            found.add("bool")
        elif arg in (int, float):
            found.add(arg.__name__)
        elif arg is str or arg is Path:
            found.add("str")
        elif get_origin(arg) is not None and get_origin(arg) not in (list, tuple, dict):
            found |= _kinds(get_args(arg)[0]) if get_args(arg) else {"any"}
    return found
