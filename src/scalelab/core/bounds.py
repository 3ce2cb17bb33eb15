"""Bounds of the numbers users type, worded once for the command line and the web page.

Integers are checked by pydantic, which is how typer checks an option's `min=`/`max=`, so the page
says what the CLI says; floats must also be finite (click's FloatRange lets NaN through every
bound). Each check raises ValueError with the message the caller puts after the flag's name."""

from __future__ import annotations

import math
import operator
from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError


@lru_cache(maxsize=64)
def _int_adapter(lo: int | None, hi: int | None) -> TypeAdapter[int]:
    return TypeAdapter(Annotated[int, Field(ge=lo, le=hi)])


def int_in(raw: Any, lo: int | None = None, hi: int | None = None) -> int:
    """`raw` (as typed, or an int) as an integer in [lo, hi]; ValueError in pydantic's words."""
    try:
        return _int_adapter(lo, hi).validate_python(raw)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


@lru_cache(maxsize=1)
def _float_adapter() -> TypeAdapter[float]:
    return TypeAdapter(float)


def float_of(raw: Any) -> float:
    """`raw` (as typed) as a float; ValueError in pydantic's words, as typer says it."""
    try:
        return _float_adapter().validate_python(raw)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


_SIGNS = (("gt", ">", operator.gt), ("ge", ">=", operator.ge), ("lt", "<", operator.lt),
          ("le", "<=", operator.le))  # fmt: skip


def finite_in(value: float, **bounds: float | None) -> float:
    """`value` when finite and within the bounds given (gt, ge, lt, le), else ValueError."""
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    for name, sign, holds in _SIGNS:
        bound = bounds.get(name)
        if bound is not None and not holds(value, bound):
            raise ValueError(f"must be {sign} {bound:g}, got {value:g}")
    return value
