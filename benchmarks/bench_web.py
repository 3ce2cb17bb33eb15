"""Benchmark `scalelab serve` on localhost: server time per interaction against calling the library
directly in the same run (targets: the DeepSeek-V3 plan search on 2,048 H800 answered in < 1 s;
simpler views well under 100 ms of server overhead), then a load test of 200 requests from 8
concurrent clients (target: no error; p95 reported). The result cache is off, so every request
computes.

Run: .venv/bin/python benchmarks/bench_web.py  ->  benchmarks/results/web.json
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import uvicorn

from scalelab.core.catalog import load_model
from scalelab.core.flags import serve_workload, train_workload, whatif_train_workload
from scalelab.core.scenario import resolve_cluster
from scalelab.hw.scaleout import apply_topology
from scalelab.plan.hardware import SWEEP_SPACE
from scalelab.plan.search import search_train
from scalelab.plan.serve import plan_serve
from scalelab.plan.whatif import whatif
from scalelab.web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_perf import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, REQUESTS = 8, 200
REQUEST_TIMEOUT_S = 120.0


def _train(
    model: str, cluster: str, batch: str, seq: int, tokens: str, fp8: bool
) -> Callable[[], Any]:
    m, c = load_model(model), apply_topology(resolve_cluster(cluster))
    w = train_workload(batch, None, seq, tokens, fp8)
    return lambda: search_train(m, c, w, "time", top=5)


def _serve(model: str, cluster: str, ttft_ms: float, tpot_ms: float) -> Callable[[], Any]:
    m, c = load_model(model), apply_topology(resolve_cluster(cluster))
    w = serve_workload(2048, 512, "fp8", ttft_ms, tpot_ms)
    return lambda: plan_serve(m, c, w, top=10)


def _whatif() -> Callable[[], Any]:
    m = load_model("llama-3.1-70b")
    w = whatif_train_workload(512, 4096, "1T", "fp8")
    return lambda: whatif(m, "h100x64", ["h200x64", "photonic"], "train", train=w, opts=SWEEP_SPACE)


# (name, URL, the library call the view stands for)
INTERACTIONS: list[tuple[str, str, Callable[[], Any] | None]] = [
    ("options (page start)", "/api/options", None),
    (
        "train: deepseek-v3 on 2,048 H800",
        "/api/train?model=deepseek-v3&cluster=h800x2048&global-batch=15360&seq=4096"
        "&train-tokens=14.8T&fp8=1&top=5",
        _train("deepseek-v3", "h800x2048", "15360", 4096, "14.8T", True),
    ),
    (
        "train: llama-3.1-8b on 16 H100",
        "/api/train?model=llama-3.1-8b&cluster=h100x16&global-batch=256&seq=4096"
        "&train-tokens=1T&fp8=1&top=5",
        _train("llama-3.1-8b", "h100x16", "256", 4096, "1T", True),
    ),
    (
        "serve: llama-3.1-70b on 16 H200",
        "/api/serve?model=llama-3.1-70b&cluster=h200x16&prompt=2048&output=512&dtype=fp8"
        "&ttft-ms=2000&tpot-ms=50&top=10",
        _serve("llama-3.1-70b", "h200x16", 2000.0, 50.0),
    ),
    (
        "whatif: llama-3.1-70b, h100x64 vs h200x64 + photonic",
        "/api/whatif?model=llama-3.1-70b&baseline=h100x64&vs=h200x64,photonic&global-batch=512"
        "&seq=4096&train-tokens=1T&precision=fp8&quick=1",
        _whatif(),
    ),
]


class Server:
    """The app (cache off) on a free loopback port in a thread."""

    def __init__(self) -> None:
        # IPPROTO_TCP named so asyncio sets TCP_NODELAY (as `scalelab serve` does)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(cache_size=0), log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def _get(conn: http.client.HTTPConnection, url: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn.request("GET", url)
    resp = conn.getresponse()
    resp.read()
    return resp.status, time.perf_counter() - t0


def per_interaction(port: int, repeats: int) -> list[dict[str, Any]]:
    """Median server round trip vs the direct library call, alternating, in this process."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    rows = []
    for name, url, direct in INTERACTIONS:
        status, _ = _get(conn, url)  # warm-up (imports, first numpy calls)
        assert status == 200, (name, status)
        if direct is not None:
            direct()
        server_s, library_s = [], []
        for _ in range(repeats):
            status, dt = _get(conn, url)
            assert status == 200, (name, status)
            server_s.append(dt)
            if direct is not None:
                t0 = time.perf_counter()
                direct()
                library_s.append(time.perf_counter() - t0)
        s = statistics.median(server_s)
        lib = statistics.median(library_s) if library_s else None
        rows.append(
            {
                "interaction": name,
                "server_median_s": s,
                "library_median_s": lib,
                "overhead_s": None if lib is None else s - lib,
                "server_over_library_ratio": None if lib is None else s / lib,
                "repeats": repeats,
            }
        )
    conn.close()
    return rows


def load_test(port: int) -> dict[str, Any]:
    """REQUESTS requests from CLIENTS threads, each with its own keep-alive connection; the
    interactions cycle (the DeepSeek-V3 search is one request in five)."""
    urls = [url for _, url, _ in INTERACTIONS]
    local = threading.local()

    def one(i: int) -> tuple[str, int, float]:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        url = urls[i % len(urls)]
        try:
            status, dt = _get(local.conn, url)
        except (OSError, http.client.HTTPException):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
            return url, 0, 0.0
        return url, status, dt

    t0 = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        done = list(pool.map(one, range(REQUESTS)))
    wall = time.perf_counter() - t0
    ok = [dt for _, status, dt in done if status == 200]
    errors = len(done) - len(ok)
    q = statistics.quantiles(ok, n=100) if len(ok) > 1 else [float("nan")] * 99
    by_kind = {}
    for name, url, _ in INTERACTIONS:
        times = [dt for u, status, dt in done if u == url and status == 200]
        by_kind[name] = {
            "requests": len(times),
            "p50_s": statistics.median(times),
            "p95_s": statistics.quantiles(times, n=100)[94] if len(times) > 1 else times[0],
        }
    return {
        "clients": CLIENTS,
        "requests": REQUESTS,
        "errors": errors,
        "wall_s": wall,
        "requests_per_s": REQUESTS / wall,
        "p50_s": q[49],
        "p95_s": q[94],
        "max_s": max(ok) if ok else None,
        "by_interaction": by_kind,
        "pass": errors == 0,
    }


def main() -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with Server() as srv:
        rows = per_interaction(srv.port, repeats=7)
        load = load_test(srv.port)
    dsv3 = next(r for r in rows if r["interaction"].startswith("train: deepseek-v3"))
    simple = [r for r in rows if r["overhead_s"] is not None and r is not dsv3]
    results = {
        "machine": {
            **machine(),
            "starlette": version("starlette"),
            "uvicorn": version("uvicorn"),
            "scalelab": version("scalelab"),
            # other jobs on the machine inflate every time here alike; the ratios stay comparable
            "load_average_1m_before_after": [load_before, os.getloadavg()[0]],
        },
        "per_interaction": rows,
        "targets": {
            "deepseek_v3_search_server_s": dsv3["server_median_s"],
            "deepseek_v3_under_1s": dsv3["server_median_s"] < 1.0,
            "max_overhead_simpler_views_s": max(r["overhead_s"] for r in simple),
            "simpler_views_overhead_under_100ms": all(r["overhead_s"] < 0.1 for r in simple),
        },
        "load_test": load,
    }
    out = ROOT / "benchmarks" / "results" / "web.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
