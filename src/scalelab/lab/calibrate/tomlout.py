"""TOML text for what scalelab writes (profiles, run files), through tomli-w: tomllib reads, the
standard library cannot write, and a hand-made writer is one quoting bug away from injection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomli_w

from scalelab.core.errors import ConfigError


def dumps_toml(data: Mapping[str, Any]) -> str:
    """`data` as TOML text (keys in the mapping's order); tuples are written as arrays."""
    try:
        return tomli_w.dumps(_plain(data))
    except TypeError as exc:
        raise ConfigError(f"cannot write TOML: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
