"""`scalelab train RUN.toml --nproc N` (lab/parallel/local.py): the rendezvous listens on
127.0.0.1 only, a killed parent leaves no worker behind (SIGKILL included), SIGTERM is
forwarded, a second writer to the same run folder is refused, and a worker's error (here: the
NaN guard) is printed once, not once per rank."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

import pytest

from scalelab.lab.manifest import latest_checkpoint, verify_checkpoint
from scalelab.lab.parallel.local import localhost_store

from dist_cli import assert_one_line_error, run_cli, start_cli, write_run_file

LONG = {"steps": 100_000, "log_every": 1}  # runs until the test stops it
LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"


def _listening(inodes: set[str] | None = None) -> list[tuple[str, int]]:
    """(hex address, port) of every listening TCP socket, optionally only those inodes."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, port = fields[1].rsplit(":", 1)
            if fields[3] == LISTEN and (inodes is None or fields[9] in inodes):
                found.append((addr, int(port, 16)))
    return found


def _socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return inodes


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _metrics_rows(out: Path) -> int:
    path = out / "metrics.csv"
    return max(0, len(path.read_text().splitlines()) - 1) if path.exists() else 0


def _lock_is_free(out: Path) -> bool:
    with (out / ".lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
        return True


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_rendezvous_store_listens_on_loopback_only():
    store, port = localhost_store(2)
    mine = [addr for addr, p in _listening() if p == port]
    assert mine == [LOOPBACK_V4]
    store.set("key", "value")
    assert store.get("key") == b"value"


@pytest.mark.dist
@pytest.mark.slow
def test_sigkill_of_the_parent_leaves_no_worker(make_run, tmp_path):
    out = tmp_path / "run"
    run = write_run_file(tmp_path / "run.toml", make_run(out, train=LONG, parallel={"dp": 2}))
    parent = start_cli("train", str(run), "--nproc", "2")
    try:
        _wait_for(lambda: _metrics_rows(out) >= 4, 120, "two logged steps in metrics.csv")
        workers = _children(parent.pid)
        assert len(workers) == 2
        # Every socket the job listens on (store, gloo) is on the loopback interface.
        listening = _listening(_socket_inodes([parent.pid, *workers]))
        assert listening and all(addr == LOOPBACK_V4 for addr, _ in listening), listening
        parent.kill()  # SIGKILL: nothing can be forwarded
        parent.wait()
        _wait_for(lambda: not any(_alive(w) for w in workers), 20, "the workers to die")
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
        parent.communicate()
    assert _lock_is_free(out)  # the kernel dropped the dead run's lock


@pytest.mark.dist
@pytest.mark.slow
def test_second_writer_is_refused_and_sigterm_stops_the_job(make_run, tmp_path):
    out = tmp_path / "run"
    train = {**LONG, "checkpoint_every": 2}
    # dp follows the process count, so the second job may use another one.
    run = write_run_file(tmp_path / "run.toml", make_run(out, train=train, parallel={"tp": 1}))
    first = start_cli("train", str(run), "--nproc", "2")
    try:
        _wait_for(lambda: (out / "dcp" / "latest").exists(), 120, "a first checkpoint")
        workers = _children(first.pid)
        code, _, err = run_cli("train", str(run), "--nproc", "1", "--resume")
        assert_one_line_error(code, err, "in use by another scalelab run")
        assert first.poll() is None  # the first job went on undisturbed
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()
    assert first.returncode == 1 and "stopped by SIGTERM" in err.strip().splitlines()[-1]
    assert not any(_alive(w) for w in workers)
    verify_checkpoint(latest_checkpoint(out / "dcp"), "distributed")  # latest: whole, verified
    assert _lock_is_free(out)


@pytest.mark.dist
@pytest.mark.slow
def test_divergence_on_two_ranks_is_one_line_and_writes_no_checkpoint(make_run, tmp_path):
    out = tmp_path / "run"
    raw = make_run(out, optim={"lr": 1e30}, parallel={"dp": 2})
    code, _, err = run_cli("train", str(write_run_file(tmp_path / "run.toml", raw)), "--nproc", "2")
    assert_one_line_error(code, err, "training diverged", "no checkpoint was written")
    assert not (out / "dcp" / "latest").exists()


def test_message_folders_of_sigkilled_launchers_are_removed(tmp_path, monkeypatch):
    import tempfile

    from scalelab.lab.parallel import local

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    dead = tmp_path / f"{local.ERROR_DIR_PREFIX}999999999-abc"  # beyond pid_max: never alive
    live = tmp_path / f"{local.ERROR_DIR_PREFIX}{os.getpid()}-def"
    dead.mkdir()
    live.mkdir()
    local._remove_stale_error_dirs()
    assert not dead.exists() and live.exists()
