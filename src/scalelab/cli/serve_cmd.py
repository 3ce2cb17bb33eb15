"""`scalelab serve`: the interactive what-if page (scalelab.web) on a local port."""

from __future__ import annotations

import errno
import socket

import typer

from scalelab.cli.common import err, out
from scalelab.core.errors import ConfigError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line ConfigError (port taken, host unknown)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {port}")
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
    port: int = typer.Option(8050, "--port", help="Port to listen on (0: any free port)."),
    workers: int = typer.Option(
        2, "--workers", help="Searches computed at the same time (more queue)."
    ),
) -> None:
    """Serve the interactive what-if page: train, serve, what-if and claims views over the same
    model as the CLI, with shareable links and JSON/CSV export. Ctrl+C stops it."""
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
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
        out.print(f"scalelab serve: {url}  (Ctrl+C to stop)", markup=False)
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C before uvicorn took the signal, or re-raised by it after
        pass
    finally:
        sock.close()
    out.print("scalelab serve: stopped")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
