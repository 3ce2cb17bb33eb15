"""Running `scalelab` as a child process in the multi-process tests, and checking its errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


CLI = "from scalelab.cli.main import run; run()"
PROGRESS = re.compile(r"^(step \d+ loss \S+)?\s*$")


def start_cli(*args: str, **popen: Any):
    """`scalelab ARGS` as a child process of the test, in its own session (kill it as a group
    if a test fails, so nothing outlives the suite)."""
    return subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            **popen)  # fmt: skip


def run_cli(*args: str, timeout_s: float = 240) -> tuple[int, str, str]:
    """Run `scalelab ARGS` to the end; returns (exit code, stdout, stderr)."""
    proc = start_cli(*args)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"scalelab {' '.join(args)} timed out: {err[-3000:]}")
    return proc.returncode, out, err


def write_run_file(path: Path, raw: dict[str, Any]) -> Path:
    from scalelab.lab.calibrate.tomlout import dumps_toml

    path.write_text(dumps_toml(raw))
    return path


def assert_one_line_error(code: int, err: str, *needles: str) -> str:
    """Exit 1 and one error line, after nothing but rank 0's progress lines."""
    lines = [line for line in err.strip().splitlines() if not PROGRESS.match(line)]
    assert code == 1 and len(lines) == 1, err[-4000:]
    assert lines[0].startswith("error:") and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
