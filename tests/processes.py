"""sqlflow as a real subprocess, for the tests of killed runs, retries and schedulers.

Every process started here is kept until the test ends; then `close_processes` (an autouse fixture of
tests/conftest.py) kills what still runs and closes the pipes, so no test leaks a process or an open pipe
(an unclosed pipe is a ResourceWarning, and warnings are errors).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_started: list[subprocess.Popen[str]] = []  # by sqlflow_process, since the last close_processes


def sqlflow_process(
    *args: str, cwd: Path, json_log: bool = True, stderr: int = subprocess.STDOUT
) -> subprocess.Popen[str]:
    """`python -m sqlflow [--log-format json] ARGS` in `cwd`, with HOME there (no profiles of the machine),
    text output on a pipe (stderr joined to it unless `stderr` says otherwise)."""
    env = {**os.environ, "HOME": str(cwd), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
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
