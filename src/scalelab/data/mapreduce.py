"""Map/reduce over a stream of row chunks, on this process or on a Dask cluster, same results.

Why Dask (of Dask, Ray, Spark): it is a pure-Python pip install whose `distributed` scheduler
runs a local cluster in seconds and the same code on a multi-machine one (`dask scheduler` +
`dask worker`, or dask-jobqueue/-kubernetes); Spark needs a JVM and moves Python rows through
Py4J/Arrow, and Ray brings a large runtime (raylet, GCS) for what is a plain task fan-out here.

The input is never held whole: chunks are read lazily and at most `max_in_flight` are submitted
at a time; the reducer folds partial results in chunk order, so every executor agrees exactly.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from scalelab.core.errors import ConfigError

T = TypeVar("T")
P = TypeVar("P")
A = TypeVar("A")


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]: ...


class LocalExecutor:
    """This process, one chunk at a time."""

    name = "local"

    def map(self, fn: Callable[[T], P], items: Iterable[T]) -> Iterator[P]:
        return map(fn, items)


class DaskExecutor:
    """A dask.distributed Client; results come back in submission order."""

    def __init__(self, client: Any, max_in_flight: int | None = None) -> None:
        self.client = client
        workers = len(client.scheduler_info().get("workers", {})) or 1
        self.max_in_flight = max_in_flight or 2 * workers
        self.name = f"dask ({workers} workers)"

    def map(self, fn: Callable[[T], P], items: Iterable[T]) -> Iterator[P]:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(self.client.submit(fn, item, pure=False))
            if len(pending) >= self.max_in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


@contextlib.contextmanager
def dask_executor(address: str | None = None, n_workers: int = 2) -> Iterator[DaskExecutor]:
    """Connect to a running scheduler (`address`, e.g. tcp://host:8786) or start a local cluster
    of `n_workers` single-threaded worker processes; closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "--engine dask needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if address:
        try:
            client = Client(address, timeout=10)
        except OSError as exc:
            raise ConfigError(f"--scheduler: cannot reach {address} ({exc})") from None
        with client:
            yield DaskExecutor(client)
        return
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,  # library code never prints: no worker chatter on stderr
    )
    with cluster, Client(cluster) as client:
        yield DaskExecutor(client)


def map_reduce(
    chunks: Iterable[T],
    mapper: Callable[[T], P],
    reducer: Callable[[A, P], A],
    initial: A,
    executor: Executor | None = None,
) -> A:
    """fold(reducer, executor.map(mapper, chunks), initial), partial results in chunk order."""
    acc = initial
    for partial in (executor or LocalExecutor()).map(mapper, chunks):
        acc = reducer(acc, partial)
    return acc


def chunked(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` consecutive rows, read lazily."""
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
