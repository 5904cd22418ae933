"""sqlflow as a real subprocess, for the tests of killed runs, retries and schedulers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def sqlflow_process(
    *args: str, cwd: Path, json_log: bool = True, stderr: int = subprocess.STDOUT
) -> subprocess.Popen[str]:
    """`python -m sqlflow [--log-format json] ARGS` in `cwd`, with HOME there (no profiles of the machine),
    text output on a pipe (stderr joined to it unless `stderr` says otherwise)."""
    env = {**os.environ, "HOME": str(cwd), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
    log = ["--log-format", "json"] if json_log else []
    return subprocess.Popen(
        [sys.executable, "-m", "sqlflow", *log, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
