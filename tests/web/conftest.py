"""A test client over the app (Starlette's TestClient, no socket) and small, fast cases."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from scalelab.web.app import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(cache_size=0), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def error_of():
    """(field, message) of a 422 answer."""

    def read(response) -> tuple[str | None, str]:
        assert response.status_code == 422, response.text
        err = response.json()["error"]
        return err["field"], err["message"]

    return read


@pytest.fixture
def cli_error(cli):
    """Run the CLI with bad input: its one stderr line without the `error: ` prefix, and for an
    option value click rejected, without the command's name and help hint around the message
    (`scalelab plan: Invalid value for '--seq': ... (see scalelab plan --help)`)."""

    def run(*args: str) -> str:
        code, out, err = cli(*args)
        assert code == 1, (out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        message = lines[0][len("error: ") :]
        usage = re.fullmatch(
            r"(scalelab [a-z -]+): (Invalid value for .*) \(see \1 --help\)", message
        )
        return usage.group(2) if usage else message

    return run
