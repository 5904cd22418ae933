"""sqlflow as a real subprocess, for the tests of killed runs, retries and schedulers.

Every process started here is kept until the test ends; then `close_processes` (an autouse fixture of
tests/conftest.py) kills what still runs and closes the pipes, so no test leaks a process or an open pipe
(an unclosed pipe is a ResourceWarning, and warnings are errors).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_started: list[subprocess.Popen[str]] = []  # by sqlflow_process, since the last close_processes


def sqlflow_process(
    *args: str, cwd: Path, json_log: bool = True, stderr: int = subprocess.STDOUT
) -> subprocess.Popen[str]:
    """`python -m sqlflow [--log-format json] ARGS` in `cwd`, with HOME there (no profiles of the machine),
    text output on a pipe (stderr joined to it unless `stderr` says otherwise)."""
    env = {**os.environ, "HOME": str(cwd), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
    env.pop("DBT_PROFILES_DIR", None)
    log = ["--log-format", "json"] if json_log else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqlflow", *log, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    _started.append(proc)
    return proc


def close_processes() -> None:
    """Kill the processes started since the last call that still run, wait for them, close their pipes."""
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait(60)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


class JsonLines:
    """A process's JSON lines (`--log-format json`), read on a thread so the test can wait for one; lines
    that are not JSON objects (a warning on a joined stderr) are left out."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.docs: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        assert proc.stdout is not None
        self.thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self.thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            if line.startswith("{"):
                with self.lock:
                    self.docs.append(json.loads(line))

    def wait_for(self, kind: str, timeout: float = 60, **fields: Any) -> dict[str, Any]:
        """The first `kind` event (whose `fields` have these values); the timeout only bounds a hang."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for doc in self.docs:
                    if doc.get("kind") == kind and all(doc.get(k) == v for k, v in fields.items()):
                        return doc
            time.sleep(0.05)
        raise AssertionError(f"no {kind} {fields or ''} event in {timeout}s: {self.docs}")

    def count(self, kind: str) -> int:
        """How many `kind` events came so far."""
        with self.lock:
            return sum(1 for doc in self.docs if doc.get("kind") == kind)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Every `kind` event, once the process has closed its output."""
        self.thread.join(30)
        return [d for d in self.docs if d.get("kind") == kind]
