"""Shared fixtures: a clean CLI runner and the path of the shipped validation cases."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def cli():
    """Invoke the real console entry point in-process; returns (exit_code, stdout, stderr)."""
    import io
    import sys
    from contextlib import redirect_stderr, redirect_stdout

    from scalelab.cli.main import run

    def invoke(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        old_argv = sys.argv
        sys.argv = ["scalelab", *args]
        code = 0
        try:
            with redirect_stdout(out), redirect_stderr(err):
                run()
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            sys.argv = old_argv
        return code, out.getvalue(), err.getvalue()

    return invoke
