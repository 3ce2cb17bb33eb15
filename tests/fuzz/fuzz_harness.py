"""Run one `scalelab` command line in-process through the console entry point, with a time bound,
and judge the outcome: exit 0 or 1, never a traceback, never a hang, impossible input rejected."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One generated command line. `files` are written (name -> text or bytes) into the example's
    folder first; `{dir}` in an argument is replaced by that folder. `impossible` names the value
    that no correct run can accept (empty: every value is possible, though it may still fail)."""

    args: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    impossible: str = ""
    # A file whose content alone holds the impossible value: the error must name it.
    names_file: str = ""
    # name -> how the session's checkpoint is copied there (fuzz_checkpoints.py)
    checkpoints: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: still running at the time bound
    stdout: str
    stderr: str
    seconds: float


def invoke(args: list[str], timeout_s: float) -> Outcome:
    """`scalelab ARGS` through the console entry point in a forked copy of this process (the
    modules stay loaded; a run that passes `timeout_s` is killed with its process group, and
    no global state such as torch's thread count leaks into the next example)."""
    if not hasattr(os, "fork"):  # pragma: no cover - CI runs on Linux
        code, out, err = _run_here(args)
        return Outcome(code, out, err, 0.0)
    read_fd, write_fd = os.pipe()
    start = time.perf_counter()
    gc.freeze()  # the child's collector then leaves the parent's objects (and their pages) alone
    pid = os.fork()
    if pid == 0:  # the child: run, report, and leave without running the parent's exit hooks
        try:
            os.close(read_fd)
            os.setpgid(0, 0)
            if "torch" in sys.modules:  # a forked OpenMP pool can hang: stay on this thread
                sys.modules["torch"].set_num_threads(1)
            payload = json.dumps(_run_here(args)).encode()
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(payload)
        finally:
            os._exit(0)
    gc.unfreeze()
    os.close(write_fd)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    data, finished = _read_until(read_fd, start + timeout_s)
    if not finished:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if not finished or not data:
        return Outcome(None if not finished else 1, "", "child died without a result", elapsed)
    code, out, err = json.loads(data)
    return Outcome(code, out, err, elapsed)


def invoke_fresh(args: list[str], timeout_s: float) -> Outcome:
    """`scalelab ARGS` in a new Python process, as a user runs it: for the valid runs that do
    real torch work, since a fork of a process whose OpenMP pool already ran (an earlier test
    in the same xdist worker) can hang in its first parallel region."""
    start = time.perf_counter()
    cmd = [sys.executable, "-c", "from scalelab.cli.main import run; run()", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome(None, "", "", time.perf_counter() - start)
    return Outcome(proc.returncode, out, err, time.perf_counter() - start)


def _read_until(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Everything the child writes to `fd`, and whether it finished before `deadline`."""
    chunks = []
    try:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return b"".join(chunks), False
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b"".join(chunks), True
                chunks.append(chunk)
    finally:
        os.close(fd)


def _run_here(args: list[str]) -> tuple[int, str, str]:
    """Run `scalelab ARGS` in this process; an exception escaping `run()` is printed the way
    the console script would print it (a traceback), so the checks below see it."""
    from scalelab.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    old_argv = sys.argv
    sys.argv = ["scalelab", *args]
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                run()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001 - what a user would see as a traceback
                traceback.print_exc(file=err)
                code = 1
    finally:
        sys.argv = old_argv
    return code, out.getvalue(), err.getvalue()


def materialize(case: Case, folder: Path, resources: dict[str, Path]) -> list[str]:
    """Write the case's files into `folder`; its arguments with `{dir}` filled in."""
    from fuzz_checkpoints import materialize_checkpoint

    (folder / "a-file").write_text("a file where a folder may be wanted\n")
    for name, mutation in case.checkpoints.items():
        materialize_checkpoint(mutation, resources, folder / name)
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return [a.replace("{dir}", str(folder)) for a in case.args]


def judge(case: Case, outcome: Outcome, quiet_exit: bool = False) -> tuple[str, str] | None:
    """None when the outcome is acceptable, else (kind, detail): kind is one of hang, traceback,
    exit-code, accepted-impossible, unnamed-file, not-one-line."""
    if outcome.code is None:
        return "hang", f"still running after {outcome.seconds:.0f} s"
    if "Traceback" in outcome.stderr or "Traceback" in outcome.stdout:
        return "traceback", _last_frames(outcome.stderr + outcome.stdout)
    if outcome.code not in (0, 1):
        return "exit-code", f"exit {outcome.code}: {outcome.stderr[-300:]}"
    if outcome.code == 0 and case.impossible:
        return "accepted-impossible", case.impossible
    if outcome.code == 1:
        lines = [ln for ln in outcome.stderr.strip().splitlines() if ln.strip()]
        if not lines or not lines[-1].startswith("error:"):
            if quiet_exit and not lines:
                return None
            return "not-one-line", outcome.stderr[-300:]
        # an error about the file names it (or another input it was given: a file or a --flag)
        named = [*case.files, *case.checkpoints, "--"]
        if case.names_file and not any(name in lines[-1] for name in named):
            return "unnamed-file", lines[-1][:300]
    return None


def _last_frames(text: str) -> str:
    """The innermost frame and the exception line of a printed traceback."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    frames = [ln.strip() for ln in lines if ln.strip().startswith('File "')]
    where = frames[-1] if frames else "?"
    return f"{where} | {lines[-1].strip() if lines else ''}"
