"""One exception hierarchy; the CLI turns any ScalelabError into one line and exit code 1."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager


class ScalelabError(Exception):
    """Base of every error scalelab raises on purpose."""


class ConfigError(ScalelabError):
    """A user file or flag is malformed: names the file/field/flag."""


class CatalogError(ScalelabError):
    """An unknown catalog id or a malformed catalog entry."""


class InfeasiblePlan(ScalelabError):
    """A parallel plan that cannot run at all (not merely one that does not fit in memory)."""


class CheckpointError(ScalelabError):
    """A checkpoint that is missing, truncated or corrupted."""


@contextmanager
def located(where: str) -> Iterator[None]:
    """A ScalelabError raised inside names `where` (file, table) first, unless it already does."""
    try:
        yield
    except ScalelabError as exc:
        message = str(exc)
        if message.startswith(where):
            raise
        located_exc = copy.copy(exc)
        located_exc.args = (f"{where}: {message}",)
        raise located_exc from None
