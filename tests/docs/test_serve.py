"""The docs server in-process: it serves the site folder on 127.0.0.1, sees a changed project file (not the
target folder) and regenerates."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

from sqlflow.docs.serve import DocsServer, project_snapshot


def test_snapshot_ignores_the_target_folder_but_not_run_results(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    (tmp_path / "target" / "docs").mkdir(parents=True)
    (tmp_path / "target" / "docs" / "index.html").write_text("x")
    (tmp_path / "shop.duckdb").write_text("db")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    snap = project_snapshot(tmp_path, tmp_path / "target")
    assert set(snap) == {str(tmp_path / "models" / "a.sql")}
    (tmp_path / "target" / "run_results.json").write_text("{}")
    assert str(tmp_path / "target" / "run_results.json") in project_snapshot(tmp_path, tmp_path / "target")


def test_serves_and_regenerates_on_change(tmp_path: Path) -> None:
    site = tmp_path / "target" / "docs"
    site.mkdir(parents=True)
    (site / "index.html").write_text("first")
    model = tmp_path / "models" / "a.sql"
    model.parent.mkdir()
    model.write_text("select 1")
    regenerated = threading.Event()

    def regenerate() -> None:
        (site / "index.html").write_text("second")
        regenerated.set()

    server = DocsServer(
        site,
        port=0,
        regenerate=regenerate,
        snapshot=lambda: project_snapshot(tmp_path, tmp_path / "target"),
        interval=0.05,
    )
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url + "index.html", timeout=5) as response:
            assert response.read() == b"first"
            assert response.headers["Cache-Control"] == "no-store"
        time.sleep(0.2)
        assert not regenerated.is_set()  # nothing changed
        model.write_text("select 2 -- changed")
        assert regenerated.wait(5)
        with urllib.request.urlopen(server.url + "index.html", timeout=5) as response:
            assert response.read() == b"second"
