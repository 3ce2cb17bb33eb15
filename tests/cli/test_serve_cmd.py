"""`scalelab serve`: one-line errors for a bad port or host, a real start on a free port that
answers over HTTP, refuses foreign Host headers, and stops cleanly on Ctrl+C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

START = "from scalelab.cli.main import run; run()"


def test_serve_help(cli):
    code, out, _ = cli("serve", "--help")
    assert code == 0 and "--host" in out and "--port" in out and "what-if page" in out


def test_bad_port_is_one_line(cli):
    code, out, err = cli("serve", "--port", "70000")
    assert code == 1 and out == ""
    assert err.strip().startswith("error: scalelab serve: Invalid value for '--port'")
    assert "65535" in err and len(err.strip().splitlines()) == 1


def test_taken_port_is_one_line(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, err = cli("serve", "--port", str(port))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert f"--port {port}: cannot listen on 127.0.0.1: address already in use" in err


def test_unknown_host_is_one_line(cli):
    code, _, err = cli("serve", "--host", "no-such-host.invalid", "--port", "0")
    assert code == 1 and "--host: cannot resolve 'no-such-host.invalid'" in err


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", START, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed once the socket listens
    assert line.startswith("scalelab serve: http://"), (
        line,
        proc.stderr.read() if proc.stderr else "",
    )
    return proc, line.split()[2]


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


@pytest.mark.slow
def test_serve_starts_answers_and_stops_cleanly():
    proc, url = _start()
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/options", timeout=30) as r:
            assert json.loads(r.read())["results"]["defaults"]["train"]["model"] == "deepseek-v3"
        with urllib.request.urlopen(url, timeout=30) as r:
            assert b"/static/app.js" in r.read()
        foreign = urllib.request.Request(url + "api/options", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(foreign, timeout=30)
        assert exc.value.code == 400
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert "Traceback" not in err


def test_public_host_warns_and_ctrl_c_is_a_clean_exit(cli, monkeypatch):
    import uvicorn

    def interrupted(self, sockets=None):  # as if Ctrl+C arrived while serving
        raise KeyboardInterrupt

    monkeypatch.setattr(uvicorn.Server, "run", interrupted)
    code, out, err = cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 0, err
    assert out.startswith("scalelab serve: http://0.0.0.0:") and "stopped" in out
    assert "warning: listening on 0.0.0.0" in err and "Traceback" not in err


def test_bound_socket_gets_nodelay_from_asyncio():
    # asyncio turns Nagle off only on sockets that say IPPROTO_TCP; without it each answer on a
    # kept-alive connection (every request of the page after the first) stalls ~40 ms.
    import asyncio

    from scalelab.cli.serve_cmd import bind

    sock = bind("127.0.0.1", 0)
    flags: list[int] = []

    async def main() -> None:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            s = writer.get_extra_info("socket")
            flags.append(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        for _ in range(200):
            if flags:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert flags and flags[0] != 0


def test_check_fetches_from_the_running_server(cli):
    code, out, err = cli("serve", "--port", "0", "--check")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("scalelab serve: http://127.0.0.1:") and "checking it" in lines[0]
    assert sum(line.startswith("  200 GET ") for line in lines) == 4 and lines[-1].endswith(
        "stopped"
    )


def test_check_failure_is_one_line(cli, monkeypatch):
    from scalelab.cli import serve_cmd

    monkeypatch.setattr(serve_cmd, "CHECKS", ("/", "/static/nothing.js"))
    code, out, err = cli("serve", "--port", "0", "--check")
    assert code == 1 and "  404 GET /static/nothing.js" in out
    assert err.strip() == "error: serve --check: /static/nothing.js answered 404"
