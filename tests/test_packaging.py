"""The package stays light to import, and every sub-package ships in the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sqlflow").rglob("__init__.py")}
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_import_and_help_load_no_engine_or_parser() -> None:
    code = (
        "import sys\n"
        "import sqlflow\n"
        "from sqlflow.cli.main import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='sqlflow')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('duckdb', 'sqlglot', 'psycopg', 'pyarrow', 'rich', 'jinja2', 'apprise', "
        "'prometheus_client') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_docs_site_files_are_package_data() -> None:
    """Every file the docs site copies (page template, app, vendored libraries and licences) ships."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "sqlflow.docs"
    ]
    package = ROOT / "sqlflow" / "docs"
    shipped = {p for g in globs for p in package.glob(g) if p.is_file()}
    files = {p for d in ("static", "templates") for p in (package / d).rglob("*") if p.is_file()}
    assert sorted(map(str, files - shipped)) == [], "add them to [tool.setuptools.package-data] sqlflow.docs"
