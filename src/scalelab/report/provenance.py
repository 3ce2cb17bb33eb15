"""Where a report came from: scalelab version, git commit, inputs, date and machine, so a reader
of a forwarded file can tell what produced it."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import scalelab

LIBRARIES = ("numpy", "pydantic", "matplotlib", "torch")


def git_commit(where: Path | None = None) -> str:
    """Short commit of the checkout scalelab runs from (+ ", uncommitted changes"), or why not."""
    where = where or Path(scalelab.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
        if head.returncode != 0:
            return "not a git checkout (installed package)"
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (git not available)"
    suffix = ", uncommitted changes" if dirty.stdout.strip() else ""
    return head.stdout.strip() + suffix


def _versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def collect(model_id: str, model_source: str, options: dict[str, Any]) -> dict[str, str]:
    """Provenance fields in display order (strings; also written to results.json)."""
    opts = "; ".join(f"{k}: {v}" for k, v in options.items()) or "defaults"
    return {
        "scalelab": scalelab.__version__,
        "commit": git_commit(),
        "model": f"{model_id} ({model_source})",
        "options": opts,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "libraries": _versions(),
    }
