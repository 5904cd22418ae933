"""Finding models, seeds, singular tests, macros and property files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import discovery, load_project

from .conftest import WriteFiles
from .helpers import exactly


def test_files_of_the_example_project(shop: Path) -> None:
    project = load_project(shop)
    assert [f.path for f in project.model_files] == [
        "models/marts/orders.sql",
        "models/staging/stg_customers.sql",
        "models/staging/stg_orders.sql",
    ]
    orders = project.model_files[0]
    assert orders.abs_path == shop / "models" / "marts" / "orders.sql"
    assert orders.text == (shop / "models" / "marts" / "orders.sql").read_text(encoding="utf-8")
    assert orders.text.startswith("{{ config(schema='marts', alias='fct_orders') }}\n")
    assert orders.checksum == hashlib.sha256(orders.text.encode()).hexdigest()
    [seed] = project.seed_files
    assert (seed.path, seed.text) == ("seeds/country_codes.csv", "")  # seeds are hashed, not kept
    assert seed.checksum == hashlib.sha256(b"code,name\nDE,Germany\n").hexdigest()
    assert [f.path for f in project.test_files] == ["tests/assert_no_negative.sql"]
    assert [f.path for f in project.macro_files] == ["macros/cents.sql"]


def test_hidden_target_and_other_files_are_skipped(shop: Path, write: WriteFiles) -> None:
    write(
        {
            "models/.scratch/draft.sql": "select 1\n",
            "models/.hidden.sql": "select 1\n",
            "models/notes.md": "# notes\n",
            "models/z/deep/er/last.sql": "select 1\n",
            "target/compiled/orders.sql": "select 1\n",
            "dbt_packages/utils/models/x.sql": "select 1\n",
            "tests/generic/positive.sql": "{% test positive(model, column_name) %}select 1{% endtest %}\n",
        },
        shop,
    )
    (shop / "sqlflow.yml").write_text("name: shop\nmodel-paths: ['.']\ntest-paths: [tests]\n")
    project = load_project(shop)
    assert [f.path for f in project.model_files] == [
        "macros/cents.sql",
        "models/marts/orders.sql",
        "models/staging/stg_customers.sql",
        "models/staging/stg_orders.sql",
        "models/z/deep/er/last.sql",
        "tests/assert_no_negative.sql",
        "tests/generic/positive.sql",
    ]
    assert [f.path for f in project.test_files] == ["tests/assert_no_negative.sql"]
    assert [f.path for f in project.macro_files] == ["macros/cents.sql", "tests/generic/positive.sql"]
    # sqlflow.yml and profiles.yml are not property files, even under a model path
    assert list(project.model_properties) == ["orders"]


def test_missing_folders_are_fine(write: WriteFiles) -> None:
    project = load_project(write({"sqlflow.yml": "name: empty\n"}))
    assert (project.model_files, project.seed_files, project.test_files, project.macro_files) == (
        (),
        (),
        (),
        (),
    )


def test_a_file_that_is_not_utf8(shop: Path) -> None:
    (shop / "models" / "latin1.sql").write_bytes("select 'café'\n".encode("latin-1"))
    with pytest.raises(
        ConfigError, match=exactly("models/latin1.sql: not UTF-8 text (save the file as UTF-8)")
    ):
        load_project(shop)


def write_big_project(root: Path, folders: int, per_folder: int) -> None:
    (root / "sqlflow.yml").write_text("name: big\n")
    for folder in range(folders):
        path = root / "models" / f"area_{folder:03}"
        path.mkdir(parents=True)
        for i in range(per_folder):
            (path / f"model_{i:03}.sql").write_text(f"select {i} as id from {{{{ ref('x_{i}') }}}}\n")


@pytest.mark.slow
def test_ten_thousand_models_are_each_read_once(write: WriteFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery walks each folder once and opens each model once (its speed: bench/bench_discovery.py)."""
    root = write({})
    write_big_project(root, folders=100, per_folder=100)
    opened: list[str] = []
    scanned: list[str] = []
    real_open, real_scandir = open, os.scandir

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    def counting_scandir(path: Any = ".") -> Any:
        scanned.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(discovery, "open", counting_open, raising=False)  # the module's `open`
    monkeypatch.setattr(discovery.os, "scandir", counting_scandir)
    project = load_project(root)
    assert len(project.model_files) == 10_000
    assert project.model_files[0].path == "models/area_000/model_000.sql"
    assert project.model_files[0].text == "select 0 as id from {{ ref('x_0') }}\n"
    models = [path for path in opened if path.endswith(".sql")]
    assert sorted(models) == sorted(str(f.abs_path) for f in project.model_files)  # each once
    folders = [path for path in scanned if path.startswith(str(root / "models"))]
    assert len(folders) == len(set(folders)) == 101  # models/ and its 100 folders, each once


def test_loading_a_project_parses_no_sql(write: WriteFiles) -> None:
    """Discovery reads model files as text: neither Jinja nor sqlglot (nor the compiler) is even imported."""
    root = write({})
    write_big_project(root, folders=2, per_folder=3)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sqlflow.project import load_project\n"
        f"assert len(load_project(Path({str(root)!r})).model_files) == 6\n"
        "heavy = ('sqlglot', 'jinja2', 'sqlflow.compile')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n", out.stderr
