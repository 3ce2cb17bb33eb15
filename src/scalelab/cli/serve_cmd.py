"""`scalelab serve`: the interactive what-if page (scalelab.web) on a local port."""

from __future__ import annotations

import errno
import http.client
import re
import socket
import threading
import time
from typing import Any

import typer

from scalelab.cli.common import err, examples, out
from scalelab.core.errors import ConfigError, ScalelabError

MAX_WORKERS = 64  # searches at once; each holds a planner's arrays
HOST_RE = re.compile(r"[A-Za-z0-9.:%_-]{1,253}")  # names, IPv4, IPv6 (with a %zone)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line ConfigError (port taken, host unknown); --port bounds
    its range."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ConfigError(f"--host: cannot resolve '{host}'") from None
    family, _, _, _, address = infos[0]
    # proto named: asyncio disables Nagle only on sockets that say IPPROTO_TCP, and without it
    # every answer on a kept-alive connection waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError(f"--port {port}: cannot listen on {host}: {reason}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback unless you choose otherwise)."
    ),
    port: int = typer.Option(
        8050, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."
    ),
    workers: int = typer.Option(
        2,
        "--workers",
        min=1,
        max=MAX_WORKERS,
        help="Searches computed at the same time (more queue).",
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="Start, fetch the page, its script, the options and one small plan search from "
        "this very server over HTTP, print what came back, and stop (an installation check).",
    ),
) -> None:
    """Serve the interactive what-if page: train, serve, what-if and claims views over the same
    model as the CLI, with shareable links and JSON/CSV export. Open the printed address in a
    browser (`scalelab serve`, or `scalelab serve --port 9000`); Ctrl+C stops it."""
    if not HOST_RE.fullmatch(host):
        raise ConfigError(f"--host must be a host name or an IP address, got {host!r}")
    import uvicorn

    from scalelab.web.app import create_app, is_loopback

    sock = bind(host, port)
    app = create_app(host=host, workers=workers)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    shown = f"[{host}]" if ":" in host else host
    try:
        if not is_loopback(host):
            err.print(
                f"warning: listening on {host}: anyone who can reach it can use the page",
                markup=False,
            )
        url = f"http://{shown}:{sock.getsockname()[1]}/"
        stop = "checking it" if check else "Ctrl+C to stop"
        out.print(f"scalelab serve: {url}  ({stop})", markup=False)
        if check:
            _self_check(uvicorn.Server(config), sock, host)
        else:
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C before uvicorn took the signal, or re-raised by it after
        pass
    finally:
        sock.close()
    out.print("scalelab serve: stopped")


# What --check fetches: the page, its script, the catalog options and a small plan search.
CHECKS = (
    "/",
    "/static/app.js",
    "/api/options",
    "/api/train?model=llama-3.1-8b&cluster=h100x8&global-batch=64&seq=4096&train-tokens=1T&top=1",
)


def _self_check(server: Any, sock: socket.socket, host: str) -> None:
    """Run the server in a thread, GET each of CHECKS from it, print the answers, stop it."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    failed = []
    try:
        conn = http.client.HTTPConnection(target, sock.getsockname()[1], timeout=60)
        for path in CHECKS:
            t0 = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            size = len(resp.read())
            ms = (time.perf_counter() - t0) * 1e3
            line = f"  {resp.status} GET {path} ({size:,} bytes, {ms:,.0f} ms)"
            out.print(line, markup=False, soft_wrap=True)
            if resp.status != 200:
                failed.append(f"{path} answered {resp.status}")
    except OSError as exc:
        failed.append(f"no answer ({exc})")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    if failed:
        raise ScalelabError("serve --check: " + "; ".join(failed))


def register(app: typer.Typer) -> None:
    app.command(
        "serve",
        epilog=examples(
            "scalelab serve --port 0 --check", "scalelab serve --port 0 --workers 1 --check"
        ),
    )(serve)
