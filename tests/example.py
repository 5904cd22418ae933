"""The example project of the tests: one small, realistic project on disk (tests/example_project/), copied
to tmp_path by the tests that need a whole project (the `example_project` fixture of tests/conftest.py) or
read as a dict of files to extend (`example_files()`, the compile tests' `SHOP`).

    sqlflow.yml                       name shop; models are views, marts/ tables tagged nightly
    models/staging/sources.yml        source raw: orders, customers (identifier customers_v2)
    models/staging/stg_orders.sql     a view on source raw.orders
    models/staging/stg_customers.sql  ephemeral, on source raw.customers
    models/marts/orders.sql           schema marts, alias fct_orders: a CTE, cents(), a join by plain name
    models/marts/schema.yml           orders: description, not_null, unique, accepted_values, relationships
    macros/cents.sql                  cents(column)
    seeds/country_codes.csv           a seed
    tests/assert_no_negative.sql      a singular test on orders

Changing it changes what many tests see (the compile goldens under tests/compile/golden/shop_*): add a
file in the test that needs it instead, unless every test should see it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLE_PROJECT = Path(__file__).resolve().parent / "example_project"


def example_files() -> dict[str, str]:
    """Every file of the example project: {relative path: text}, sorted by path."""
    return {
        path.relative_to(EXAMPLE_PROJECT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(EXAMPLE_PROJECT.rglob("*"))
        if path.is_file()
    }


def copy_example_project(dest: Path) -> Path:
    """A copy of the example project at `dest` (which must not exist yet); returns `dest`."""
    shutil.copytree(EXAMPLE_PROJECT, dest)
    return dest
