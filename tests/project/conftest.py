"""Fixtures for the project tests: write a small project into tmp_path and keep the user's profiles out."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

SHOP = {
    "sqlflow.yml": """\
        name: shop
        models:
          shop:
            +materialized: view
            marts:
              +materialized: table
              +tags: [nightly]
        """,
    "models/staging/stg_orders.sql": "select * from {{ source('shop', 'raw_orders') }}\n",
    "models/marts/orders.sql": "select * from {{ ref('stg_orders') }}\n",
    "models/schema.yml": """\
        version: 2
        sources:
          - name: shop
            schema: raw
            tables:
              - name: raw_orders
        models:
          - name: orders
            columns:
              - name: order_id
                data_tests: [not_null, unique]
        """,
    "seeds/raw_payments.csv": "id,amount\n1,10\n",
    "tests/assert_positive.sql": "select * from {{ ref('orders') }} where amount < 0\n",
    "macros/cents.sql": "{% macro cents(x) %}{{ x }} / 100{% endmacro %}\n",
}

WriteFiles = Callable[..., Path]


@pytest.fixture(autouse=True)
def _no_user_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's ~/.sqlflow or $SQLFLOW_PROFILES_DIR."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)


@pytest.fixture
def write(tmp_path: Path) -> WriteFiles:
    """write({"path": "text", ...}, base=...) writes dedented files under `base` (tmp_path/project)."""

    def write_files(files: Mapping[str, str], base: Path | None = None) -> Path:
        root = base or tmp_path / "project"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        root.mkdir(parents=True, exist_ok=True)
        return root

    return write_files


@pytest.fixture
def shop(write: WriteFiles) -> Path:
    """The small example project, written to tmp_path/project."""
    return write(SHOP)
