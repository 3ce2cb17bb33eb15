"""`scalelab train RUN.toml --nproc N` on one machine: what `torchrun --standalone` does, with
the safety a command-line tool owes its user.

- The rendezvous store listens on 127.0.0.1 only (torchrun's listens on every interface), and
  the workers' gloo sockets bind to MASTER_ADDR = 127.0.0.1.
- The workers run in their own process group; SIGINT/SIGTERM/SIGHUP to the parent stop them
  (SIGTERM, then SIGKILL after GRACE_S), and each worker dies with its parent (PR_SET_PDEATHSIG on Linux, a watchdog thread elsewhere),
  so no worker outlives a killed `scalelab train`, not even after SIGKILL.
- A failed worker stops the others; the job restarts up to `max_restarts` times from the last
  checkpoint, as torchrun's `--max-restarts` does, except after a clean one-line error (bad
  input or a damaged checkpoint would fail again): that line is reported once, not once per rank.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from scalelab.core.errors import ScalelabError

ERROR_DIR_ENV = "SCALELAB_ERROR_DIR"
ERROR_DIR_PREFIX = "scalelab-errors-"
PARENT_ENV = "SCALELAB_PARENT_PID"
TRAIN_MODULE = "scalelab.lab.parallel.train_dist"
GRACE_S = 10.0  # how long stopped workers get to exit before SIGKILL
POLL_S = 0.05
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def localhost_store(world_size: int) -> tuple[object, int]:
    """A TCPStore server listening on 127.0.0.1 only (TCPStore binds every interface unless
    handed a listening socket); returns (store, port). Keep the store alive while it is used."""
    import torch.distributed as dist

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = int(sock.getsockname()[1])
    store = dist.TCPStore(
        "127.0.0.1",
        port,
        world_size,
        is_master=True,
        wait_for_workers=False,
        master_listen_fd=sock.detach(),  # the store owns the socket from here on
        use_libuv=True,
    )
    return store, port


def worker_env(rank: int, world_size: int, port: int, attempt: int) -> dict[str, str]:
    """The variables torchrun gives a worker on one node, with the agent store at `port`."""
    return {
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "GROUP_RANK": "0",
        "WORLD_SIZE": str(world_size),
        "LOCAL_WORLD_SIZE": str(world_size),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "TORCHELASTIC_USE_AGENT_STORE": "True",
        "TORCHELASTIC_RESTART_COUNT": str(attempt),
    }


def die_with_parent() -> None:
    """In a worker started by `run_local`: exit when the launching process is gone."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(parent) and not _exists(int(parent)):  # died before prctl acted
        os._exit(1)
    if not sys.platform.startswith("linux"):
        threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGKILL)


def report_error(rank: int, message: str) -> bool:
    """A worker's one-line error, for the launcher to print once; False when not under it."""
    folder = os.environ.get(ERROR_DIR_ENV)
    if not folder:
        return False
    try:
        (Path(folder) / f"rank_{rank:05d}.txt").write_text(message)
    except OSError:  # the launcher is gone: say it here
        return False
    return True


def _start(args: Sequence[str], nproc: int, port: int, attempt: int, errors: Path):
    procs: list[subprocess.Popen[bytes]] = []
    base = {**os.environ, ERROR_DIR_ENV: str(errors), PARENT_ENV: str(os.getpid())}
    if nproc > 1:
        base.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default for several workers
    loopback = _loopback_interface()
    if loopback:  # gloo/NCCL would otherwise listen on the address the host name resolves to
        base.setdefault("GLOO_SOCKET_IFNAME", loopback)
        base.setdefault("NCCL_SOCKET_IFNAME", loopback)
    cmd = [sys.executable, "-m", TRAIN_MODULE, *args]
    for rank in range(nproc):
        group = procs[0].pid if procs else 0  # one process group for all workers
        env = {**base, **worker_env(rank, nproc, port, attempt)}
        try:
            procs.append(subprocess.Popen(cmd, env=env, process_group=group))
        except OSError:  # the group's leader already exited: a group of its own
            procs.append(subprocess.Popen(cmd, env=env, process_group=0))
    return procs


def _loopback_interface() -> str | None:
    names = [name for _, name in socket.if_nameindex()] if hasattr(socket, "if_nameindex") else []
    return next((n for n in ("lo", "lo0") if n in names), None)


def _signal_all(procs: Sequence[subprocess.Popen[bytes]], sig: int) -> None:
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass


def _stop(procs: Sequence[subprocess.Popen[bytes]], sig: int = signal.SIGTERM) -> None:
    """Signal every live worker, wait up to GRACE_S, then SIGKILL what is left."""
    _signal_all(procs, sig)
    deadline = time.monotonic() + GRACE_S
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    _signal_all(procs, signal.SIGKILL)
    for p in procs:
        p.wait()


def _wait(procs: Sequence[subprocess.Popen[bytes]], stop: list[int]) -> tuple[int, int]:
    """Until all succeed, one fails or a signal arrives; returns (rank, code) of a failure,
    or (-1, 0) when every worker exited 0."""
    while True:
        if stop:
            return -1, -stop[0]
        codes = [p.poll() for p in procs]
        failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            return failed[0]
        if all(c == 0 for c in codes):
            return -1, 0
        time.sleep(POLL_S)


@contextmanager
def _forward_signals(stop: list[int]) -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP end the wait (the workers are then stopped), in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.append(signum)

    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _describe(rank: int, code: int) -> str:
    if code < 0:
        return f"worker rank {rank} was killed by {signal.Signals(-code).name}"
    return f"worker rank {rank} exited with code {code}"


def _remove_stale_error_dirs() -> None:
    """Message folders of launchers that were SIGKILLed (their pid is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{ERROR_DIR_PREFIX}*-*"):
        pid = folder.name[len(ERROR_DIR_PREFIX) :].split("-", 1)[0]
        mine = folder.is_dir() and folder.stat().st_uid == os.getuid()
        if mine and pid.isdigit() and not _exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _first_error(errors: Path) -> str | None:
    files = sorted(errors.glob("rank_*.txt"))
    return files[0].read_text().strip() if files else None


def run_local(args: Sequence[str], nproc: int, max_restarts: int = 0) -> None:
    """Run `python -m scalelab.lab.parallel.train_dist ARGS` in `nproc` local workers; raises
    ScalelabError with the workers' first one-line error, or on failure after the restarts."""
    stop: list[int] = []
    store, port = localhost_store(nproc)
    _remove_stale_error_dirs()
    prefix = f"{ERROR_DIR_PREFIX}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, _forward_signals(stop):
        errors = Path(tmp)
        for attempt in range(max_restarts + 1):
            procs = _start(args, nproc, port, attempt, errors)
            try:
                rank, code = _wait(procs, stop)
            finally:
                _stop(procs)  # SIGTERM even for Ctrl-C: a worker's KeyboardInterrupt is a traceback
            if code == 0:
                return
            if stop:
                name = signal.Signals(stop[0]).name
                raise ScalelabError(
                    f"stopped by {name}; the workers were stopped (--resume goes on)"
                )
            message = _first_error(errors)
            if message:
                raise ScalelabError(message)
            if attempt == max_restarts:
                raise ScalelabError(f"{_describe(rank, code)}; its messages are above")
