"""The `scalelab serve` application (Starlette): one page and its assets, served from this package,
and a JSON API with one endpoint per view. Every answer is the versioned envelope the CLI's
--json prints; `format=csv` exports a view's table. Bad input answers 422 with the CLI's one-line
message and the field it belongs to. Request sizes are bounded; only loopback Host headers are
accepted when bound to loopback (no DNS rebinding), and no file outside the package is read."""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
import json
import logging
import re
from collections.abc import Callable
from importlib import resources
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scalelab import __version__
from scalelab.core.envelope import clean_json, envelope
from scalelab.core.errors import ScalelabError
from scalelab.web import catalog_options
from scalelab.web.inputs import FieldError, Params, encode_spec, model_from_upload
from scalelab.web.jobs import Runner
from scalelab.web.views import claims, serve, train, whatif
from scalelab.web.views.common import model_json

log = logging.getLogger("scalelab.web")
VIEWS: dict[str, ModuleType] = {"train": train, "serve": serve, "whatif": whatif, "claims": claims}
MAX_UPLOAD_BYTES = 256 * 1024  # a config.json is a few KB; DeepSeek-V3's is under 2 KB
MAX_QUERY_BYTES = 8 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ASSETS = {
    "app.js": "text/javascript",
    "charts.js": "text/javascript",
    "views.js": "text/javascript",
    "app.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class Json(Response):
    """JSON with NaN/inf as null (core.envelope.clean_json) and numpy scalars as numbers."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(clean_json(content), default=_plain, separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _error(status: int, message: str, field: str | None = None) -> Json:
    return Json({"error": {"field": field, "message": message}}, status_code=status)


class Guard:
    """ASGI middleware: refuse oversized query strings and add the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            limit = f"query string over {MAX_QUERY_BYTES // 1024} KiB"
            await _error(414, limit)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def _static(name: str) -> bytes:
    return (resources.files("scalelab.web") / "static" / name).read_bytes()


async def index(request: Request) -> Response:
    return Response(_static("index.html"), media_type="text/html; charset=utf-8")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:  # a fixed list: no path from the URL ever reaches the file system
        return _error(404, f"no asset '{name}'")
    return Response(_static(name), media_type=ASSETS[name], headers={"cache-control": "no-cache"})


def _freeze(used: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in used.items()))


def _csv(results: dict[str, Any], module: ModuleType, name: str | None, view: str) -> Response:
    tables = module.tables(results)
    table = name or next(iter(tables))
    if table not in tables:
        return _error(422, f"table: expected one of {', '.join(tables)}, got '{table}'", "table")
    head, rows = tables[table]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    disposition = f'attachment; filename="scalelab-{view}-{table}.csv"'
    return Response(
        buf.getvalue(), media_type="text/csv", headers={"content-disposition": disposition}
    )


def view_endpoint(runner: Runner) -> Callable[[Request], Any]:
    async def view(request: Request) -> Response:
        name = request.path_params["view"]
        module = VIEWS.get(name)
        if module is None:
            return _error(404, f"no view '{name}' (views: {', '.join(VIEWS)})")
        q = request.query_params
        fmt = q.get("format", "")
        if fmt not in ("", "json", "csv"):
            return _error(422, f"format: expected json or csv, got '{fmt}'", "format")
        rid = q.get("req")
        params = Params(q, {k: q.getlist(k) for k in q}, module.DEFAULTS)
        try:
            parsed = module.parse(params)
            progress = runner.progress(rid if rid and REQUEST_ID.match(rid) else None)
            key = (name, _freeze(params.used))
            results = await runner.run(key, lambda pr: module.compute(parsed, pr), progress)
        except FieldError as exc:
            return _error(422, exc.message, exc.field)
        except ScalelabError as exc:
            return _error(422, str(exc))
        except Exception as exc:  # a bug: logged with its traceback, one line to the page
            log.exception("view %s failed", name)
            return _error(500, f"internal error in the {name} view: {type(exc).__name__}")
        if fmt == "csv":
            return _csv(results, module, q.get("table"), name)
        body = envelope(results, module.COMMAND, params.used)
        headers = (
            {"content-disposition": f'attachment; filename="scalelab-{name}.json"'}
            if fmt == "json"
            else {}
        )
        return Json(body, headers=headers)

    return view


async def upload_model(request: Request) -> Response:
    """POST a config.json (the body, as sent): the model it describes and its URL form."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES):
        return _error(413, f"config.json over {MAX_UPLOAD_BYTES // 1024} KiB", "model")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPLOAD_BYTES:
            return _error(413, f"config.json over {MAX_UPLOAD_BYTES // 1024} KiB", "model")
    try:
        data = json.loads(bytes(body).decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:  # as core/io.read_mapping words it for a file
        return _error(422, f"config.json: not valid JSON: {exc}", "model")
    try:
        model = model_from_upload(data)
    except FieldError as exc:
        return _error(422, exc.message, exc.field)
    results = {
        "mspec": encode_spec(model),
        "model": model_json(model, None),
        "fields": model.model_dump(exclude_defaults=True),
    }
    return Json(envelope(results, "web model", {"bytes": len(body)}))


def progress_endpoint(runner: Runner) -> Callable[[Request], Any]:
    async def progress(request: Request) -> Response:
        rid = request.path_params["rid"]
        record = runner.lookup(rid) if REQUEST_ID.match(rid) else None
        if record is None:
            return _error(404, f"no request '{rid}' in progress")
        return Json(record.to_dict())

    return progress


@functools.cache
def _options() -> bytes:
    """The catalog does not change while the server runs: build the answer once."""
    results = catalog_options.options({k: m.DEFAULTS for k, m in VIEWS.items()})
    results["version"] = __version__
    return bytes(Json(envelope(results, "web options", {})).body)


async def options(request: Request) -> Response:
    return Response(_options(), media_type="application/json")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str]:
    """Host headers accepted: loopback names when bound to loopback (a page on another site that
    resolves its own name to 127.0.0.1 is refused), else any."""
    return [*LOOPBACK, "[::1]", host] if is_loopback(host) else ["*"]


def create_app(
    host: str = "127.0.0.1",
    workers: int = 2,
    cache_size: int = 64,
    hosts: list[str] | None = None,
) -> Starlette:
    """The application; `host` is where it will listen (it decides the accepted Host headers)."""
    runner = Runner(workers=workers, cache_size=cache_size)
    routes = [
        Route("/", index),
        Route("/static/{name}", asset),
        Route("/api/options", options),
        Route("/api/model", upload_model, methods=["POST"]),
        Route("/api/progress/{rid}", progress_endpoint(runner)),
        Route("/api/{view}", view_endpoint(runner)),
    ]
    middleware = [
        Middleware(Guard),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts or allowed_hosts(host)),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.runner = runner
    return app
