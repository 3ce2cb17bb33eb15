"""One run, one writer: an advisory lock (`flock`) on OUTPUT/.lock for as long as a process
trains into OUTPUT. The kernel drops it when the holder exits, however it exits (even SIGKILL),
so a stale lock cannot outlive its run.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from scalelab.core.errors import ConfigError

LOCK_NAME = ".lock"


class RunLock:
    """`with RunLock(out_dir):` — raises ConfigError at once if another process holds it."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"{self.path.parent}: cannot write here ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(
                f"{self.path.parent} is in use by another scalelab run (pid {holder}); "
                "wait for it to end or choose another output.dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (unlinking would race)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
