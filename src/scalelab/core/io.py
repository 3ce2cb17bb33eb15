"""Reading user files (TOML, JSON, YAML), turning pydantic errors into one-line ConfigErrors, and
writing outputs atomically (temp file + rename, cleaned up on every exit path)."""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from scalelab.core.errors import ConfigError
from scalelab.core.strict import lax_value

M = TypeVar("M", bound=BaseModel)


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader reading floats as YAML 1.2 does: `1.0e9` is a number, not the
    string YAML 1.1 makes of it (which the spec checks would then reject)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF))$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Parse a .toml, .json or .yaml file into a dict; any problem is a ConfigError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.load(text, Loader=_YamlLoader)  # a SafeLoader subclass
        else:
            raise ConfigError(f"{path}: unknown file type (expected .toml, .json or .yaml)")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()}: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table/object at the top level")
    problem = _odd_structure(data)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return data


def _odd_structure(value: Any, loc: str = "", depth: int = 0) -> str | None:
    """What TOML/JSON/YAML allow but no scalelab file uses: a key that is not text (YAML
    `1: x`), or nesting deeper than 32 levels (YAML aliases can even make a cycle)."""
    if depth > 32:
        return f"{loc or 'top'}: nested too deeply"
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if isinstance(value, dict) and not isinstance(key, str):
            return f"{loc + '.' if loc else ''}{key!r}: keys must be text"
        where = f"{loc}[{key}]" if isinstance(value, list) else f"{loc + '.' if loc else ''}{key}"
        problem = _odd_structure(item, where, depth + 1)
        if problem:
            return problem
    return None


def describe_validation_error(exc: ValidationError) -> str:
    """The first pydantic error as `field.path: message`."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field (typo?)"
    elif err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def build(model: type[M], data: dict[str, Any], where: str) -> M:
    """Validate `data` into `model`; errors become `ConfigError("WHERE: field: message")`.
    A value pydantic would only take by converting it (`true` for a count, `"7"` for a number)
    or a non-finite float anywhere is an error too (core/strict.py)."""
    problem = lax_value(model, data)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe_validation_error(exc)}") from None


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write to a temp file in the same folder, then rename: a reader never sees half a file.

    The temp file is removed on every way out (error, Ctrl-C, SIGTERM/SIGHUP while writing);
    one left by a SIGKILLed writer is removed by the next write to the same path. A path that
    is a folder, or a folder that cannot be written, is a one-line ConfigError."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; give a file name")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with _signals_raise():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(path)
            fd, tmp = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
            )
        except OSError as exc:
            raise ConfigError(f"{path}: cannot write ({_reason(exc, path)})") from None
        try:
            _write_and_rename(fd, tmp, raw, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise ConfigError(f"{path}: cannot write ({_reason(exc, path)})") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _reason(exc: OSError, path: Path) -> str:
    """strerror and the path it concerns (the folder, rather than our temp file's name)."""
    where = exc.filename
    if where and Path(str(where)).name.startswith(f".{path.name}."):
        where = path.parent
    return f"{exc.strerror or type(exc).__name__}" + (f": {where}" if where else "")


def _write_and_rename(fd: int, tmp: str, raw: bytes, path: Path) -> None:
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual mode
    os.replace(tmp, path)


class _Terminated(BaseException):
    """A termination signal arrived while a temp file existed (converted to SystemExit)."""


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into an exception for the duration, so `except` cleans up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    sigs = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    except _Terminated as exc:
        raise SystemExit(128 + int(exc.args[0])) from None
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _remove_stale_temps(path: Path) -> None:
    """Delete `.NAME.PID.*.tmp` siblings whose writer process no longer exists."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
