"""Finding models, seeds, singular tests, macros and property files."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import load_project

from .conftest import WriteFiles
from .helpers import exactly


def test_files_of_the_example_project(shop: Path) -> None:
    project = load_project(shop)
    assert [f.path for f in project.model_files] == [
        "models/marts/orders.sql",
        "models/staging/stg_orders.sql",
    ]
    orders = project.model_files[0]
    assert orders.abs_path == shop / "models" / "marts" / "orders.sql"
    assert orders.text == "select * from {{ ref('stg_orders') }}\n"
    assert orders.checksum == hashlib.sha256(orders.text.encode()).hexdigest()
    [seed] = project.seed_files
    assert (seed.path, seed.text) == ("seeds/raw_payments.csv", "")
    assert seed.checksum == hashlib.sha256(b"id,amount\n1,10\n").hexdigest()
    assert [f.path for f in project.test_files] == ["tests/assert_positive.sql"]
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
        "models/staging/stg_orders.sql",
        "models/z/deep/er/last.sql",
        "tests/assert_positive.sql",
        "tests/generic/positive.sql",
    ]
    assert [f.path for f in project.test_files] == ["tests/assert_positive.sql"]
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


@pytest.mark.slow
def test_ten_thousand_models_load_fast(write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: big\n"})
    for folder in range(100):
        path = root / "models" / f"area_{folder:03}"
        path.mkdir(parents=True)
        for i in range(100):
            (path / f"model_{i:03}.sql").write_text(f"select {i} as id from {{{{ ref('x_{i}') }}}}\n")
    load_project(root)  # warm the file system cache, as a second run would
    started = time.perf_counter()
    project = load_project(root)
    elapsed = time.perf_counter() - started
    assert len(project.model_files) == 10_000
    assert project.model_files[0].path == "models/area_000/model_000.sql"
    assert elapsed < 1.0, f"loading 10,000 models took {elapsed:.2f}s"
