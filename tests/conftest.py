"""Options and fixtures shared by every test folder: --update-golden, a copy of the example project
(tests/example.py), a real HTTP server on 127.0.0.1, and a schema of its own on the test PostgreSQL server
(tests/postgres.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests import postgres
from tests.example import copy_example_project
from tests.processes import close_processes

# --doctest-modules would import this file as a module named `conftest`, clashing with the conftest.py of
# a test folder that is not a package (tests/cli/); it holds no doctests.
collect_ignore = ["conftest.py"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files (tests/**/golden/*) from the current output; review the diff after",
    )


@pytest.fixture(autouse=True)
def _close_processes() -> Iterator[None]:
    """The sqlflow processes a test started (tests/processes.py): killed if still running, pipes closed."""
    yield
    close_processes()


@pytest.fixture(autouse=True)
def _no_dbt_profiles_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test (nor a process it starts) reads the $DBT_PROFILES_DIR of the machine; the folders that set HOME
    and unset $SQLFLOW_PROFILES_DIR keep doing so themselves."""
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """The example project (tests/example_project/), copied to tmp_path/project."""
    return copy_example_project(tmp_path / "project")


class LocalServer:
    """`answers[path] = (status, body)`; a body that is not bytes is sent as JSON. Unknown paths: 404.

    A POST is answered the same way and kept in `posts`: (path, headers, body bytes), in arrival order.
    """

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = {}
        self.hits: dict[str, int] = {}
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                status, body = server.answers.get(self.path, (404, b"not found"))
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_HEAD = do_GET

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.posts.append((self.path, dict(self.headers.items()), body))
                self.do_GET()

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def json_posts(self, path: str) -> list[Any]:
        """The JSON bodies POSTed to `path`."""
        return [json.loads(body) for p, _, body in self.posts if p == path]

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local_server() -> type[LocalServer]:
    """The LocalServer class: `with local_server() as server:` runs one for the block."""
    return LocalServer


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name on the test PostgreSQL server (skipped without one, failed instead with
    SQLFLOW_REQUIRE_POSTGRES=1); every schema starting with it is dropped after the test."""
    postgres.need_postgres()
    schema = postgres.fresh_schema()
    try:
        yield schema
    finally:
        postgres.drop_schemas(schema)
