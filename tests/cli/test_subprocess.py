"""The quick start as a user types it: real processes, a fresh folder, the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def sqlflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(cwd), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "sqlflow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_init_then_build(tmp_path: Path) -> None:
    done = sqlflow("init", "shop", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "shop"
    done = sqlflow("build", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout and "Finished" in done.stdout
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    assert results and all(r["status"] in ("success", "pass") for r in results)


def test_error_exit_codes(tmp_path: Path) -> None:
    assert sqlflow("init", "shop", cwd=tmp_path).returncode == 0
    project = tmp_path / "shop"
    (project / "models" / "bad.sql").write_text("select * from\nwhere (")
    done = sqlflow("compile", cwd=project)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "models/bad.sql" in done.stderr
    done = sqlflow("run", "--threads", "0", cwd=project)
    assert done.returncode == 2
