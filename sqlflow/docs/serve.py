"""Serve the docs site over HTTP (127.0.0.1 by default) and, with a `regenerate` callback, rebuild it when a
file of the project changes (or a run writes target/run_results.json).

The stdlib's ThreadingHTTPServer serves the site folder, which each generation replaces as a whole. The
watch thread compares the files' modification times every `interval` seconds, waiting on an Event so that
`shutdown()` ends it at once: apart from schedule/loop.py, the only code that waits. Imports no click.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlflow.errors import SqlflowError

Snapshot = Mapping[str, tuple[int, int]]  # path -> (mtime_ns, size)
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "logs"})
SKIP_SUFFIXES = (".duckdb", ".duckdb.wal", ".wal", ".tmp", ".pyc")


def project_snapshot(root: Path, target_dir: Path) -> dict[str, tuple[int, int]]:
    """The files a generation reads: everything under `root` but the target folder (except its
    run_results.json), hidden folders and database files."""
    out: dict[str, tuple[int, int]] = {}
    target = target_dir.resolve()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [
            d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and (here / d).resolve() != target
        ]
        for name in files:
            if name.startswith(".") or name.endswith(SKIP_SUFFIXES):
                continue
            _stat_into(out, here / name)
    _stat_into(out, target_dir / "run_results.json")
    return out


def _stat_into(out: dict[str, tuple[int, int]], path: Path) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    out[str(path)] = (st.st_mtime_ns, st.st_size)


class _Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a regenerated site is seen at the next reload
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class DocsServer:
    """An HTTP server of `site`; `regenerate` (with `snapshot`) turns on the watch thread."""

    def __init__(
        self,
        site: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        regenerate: Callable[[], None] | None = None,
        snapshot: Callable[[], Snapshot] | None = None,
        interval: float = 1.0,
    ) -> None:
        self.site = site
        handler = partial(_Handler, directory=str(site))
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise SqlflowError(
                f"cannot serve on {host}:{port}: {exc.strerror or exc}",
                hint="choose another --port (0 picks a free one)",
            ) from exc
        self.httpd.daemon_threads = True
        self.regenerate = regenerate
        self.snapshot = snapshot
        self.interval = interval
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes | bytearray):  # typeshed allows it; an AF_INET/AF_INET6 socket gives str
            host = host.decode()
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"

    def start(self) -> DocsServer:
        """Serve (and watch) on background threads; returns self."""
        threading.Thread(target=self.httpd.serve_forever, args=(0.2,), daemon=True, name="docs-http").start()
        if self.regenerate is not None and self.snapshot is not None:
            self._watcher = threading.Thread(target=self._watch, daemon=True, name="docs-watch")
            self._watcher.start()
        return self

    def wait(self) -> None:
        """Block until shutdown() (or Ctrl-C in the caller)."""
        while not self._stop.wait(3600):
            pass

    def shutdown(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def __enter__(self) -> DocsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _watch(self) -> None:
        assert self.snapshot is not None and self.regenerate is not None
        seen = self.snapshot()
        while not self._stop.wait(self.interval):
            now = self.snapshot()
            if now == seen:
                continue
            seen = now  # a change made while generating is seen at the next look
            self.regenerate()  # the callback reports its own errors; the old site stays served
