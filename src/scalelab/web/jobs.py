"""Running a view's computation off the event loop: a bounded number of worker threads, a small
LRU cache of finished answers (a shared link or the back button answers at once), one computation
per identical request in flight, and a progress record per request id that the page polls while a
long search runs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio import to_thread

PROGRESS_KEEP_S = 120.0  # a finished request's progress stays readable this long
MAX_PROGRESS = 512


@dataclass
class Progress:
    """What one request is doing: a stage line and, where countable, `done` of `total` steps."""

    stage: str = "queued"
    done: int = 0
    total: int = 0
    started_s: float = field(default_factory=time.monotonic)
    finished_s: float | None = None

    def step(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        self.stage = stage
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total

    def to_dict(self) -> dict[str, Any]:
        end = self.finished_s or time.monotonic()
        return {
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "elapsed_s": end - self.started_s,
            "finished": self.finished_s is not None,
        }


class Runner:
    """Computes `fn(progress)` in a worker thread, at most `workers` at a time, caching results."""

    def __init__(self, workers: int = 2, cache_size: int = 64) -> None:
        self._limiter: anyio.CapacityLimiter | None = None
        self._workers = workers
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_size = cache_size
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        self._progress: OrderedDict[str, Progress] = OrderedDict()
        self._lock = threading.Lock()

    def progress(self, request_id: str | None) -> Progress:
        """A fresh record, registered under `request_id` when the page sent one."""
        record = Progress()
        if request_id:
            with self._lock:
                self._progress[request_id] = record
                self._prune()
        return record

    def lookup(self, request_id: str) -> Progress | None:
        with self._lock:
            return self._progress.get(request_id)

    def _prune(self) -> None:
        now = time.monotonic()
        for key in list(self._progress):
            rec = self._progress[key]
            stale = rec.finished_s is not None and now - rec.finished_s > PROGRESS_KEEP_S
            if stale or len(self._progress) > MAX_PROGRESS:
                del self._progress[key]

    async def run(self, key: Hashable, fn: Callable[[Progress], Any], progress: Progress) -> Any:
        """The cached answer for `key`, the answer of an identical request in flight, or a new
        computation; exceptions propagate to every waiter."""
        if key in self._cache:
            self._cache.move_to_end(key)
            progress.step("cached")
            progress.finished_s = time.monotonic()
            return self._cache[key]
        if key in self._inflight:
            progress.step("waiting for the same computation")
            try:
                return await asyncio.shield(self._inflight[key])
            finally:
                progress.finished_s = time.monotonic()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(self._workers)
            result = await to_thread.run_sync(fn, progress, limiter=self._limiter)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._inflight.pop(key, None)
            progress.finished_s = time.monotonic()
        future.set_result(result)
        if self._cache_size > 0:
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result
