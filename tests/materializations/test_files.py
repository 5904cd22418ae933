"""Loading the CSV files a model reads in SQL for an engine that cannot read them (materializations/
files.py): read_csv's options, errors naming the glob and the model, and the load on a real DuckDB driven
the way PostgreSQL is (`reads_csv_in_sql` off). PostgreSQL itself: tests/contract/test_file_reads.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sqlflow.adapters import Adapter
from sqlflow.adapters.duckdb import DuckDBAdapter
from sqlflow.errors import NodeFailedError
from sqlflow.manifest import FileLoad, FrozenMap, ModelNode, Relation
from sqlflow.materializations import materialize
from sqlflow.materializations.files import load_files, read_files

from .helpers import context, duckdb_target, make_model, rows

TABLE = Relation(database="db", schema="main", identifier="__sqlflow_file_0123456789ab")


class NoFilesAdapter(DuckDBAdapter):
    """DuckDB driven the way engines that cannot read files in SQL are: sqlflow loads them first."""

    reads_csv_in_sql: ClassVar[bool] = False


@pytest.fixture
def no_files(db_path: Path) -> Iterator[Adapter]:
    adapter = NoFilesAdapter(duckdb_target(db_path))
    yield adapter
    adapter.close()


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def reading(*paths: str, sql: str | None = None, **options: Any) -> ModelNode:
    """The model `events` reading `paths` through the loaded table."""
    load = FileLoad(relation=TABLE, paths=paths, options=FrozenMap(options))
    node = make_model(
        "events", sql or 'select * from "main"."__sqlflow_file_0123456789ab"', materialized="view"
    )
    return dataclasses.replace(node, file_loads=(load,), file_reads=paths)


def table_rows(node: ModelNode, root: Path) -> list[dict[str, Any]]:
    return read_files(node.file_loads[0], root, node).to_pylist()


# -- reading ----------------------------------------------------------------------------------------------


def test_every_match_of_the_globs_in_sorted_order_as_one_table(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "landing/b.csv": "id,at\n3,2025-03-02 10:00:00\n",
            "landing/a.csv": "id,at\n1,2025-03-01 10:00:00\n2,2025-03-01 11:00:00\n",
            "landing/old/c.csv": "id,at\n9,2025-01-01 00:00:00\n",
            "landing/notes.txt": "not a csv",
            "extra/d.csv": "id,at\n4,\n",
        },
    )
    node = reading("landing/*.csv", str(tmp_path / "extra" / "d.csv"))
    assert table_rows(node, tmp_path) == [
        {"id": 1, "at": datetime(2025, 3, 1, 10)},
        {"id": 2, "at": datetime(2025, 3, 1, 11)},
        {"id": 3, "at": datetime(2025, 3, 2, 10)},
        {"id": 4, "at": None},
    ]
    assert [r["id"] for r in table_rows(reading("landing/**/*.csv"), tmp_path)] == [1, 2, 3, 9]


def test_read_csv_options_are_honoured(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "x.csv": "exported by the shop\n1;'a;b';NA\n2;'';\n",
            "y.tsv": "id\tname\n1\tx\n",
            "z.csv": 'id,a,b\n2,"",\n',
        },
    )
    node = reading("x.csv", header=False, delim=";", quote="'", skip=1, nullstr="NA")
    assert table_rows(node, tmp_path) == [
        {"column0": 1, "column1": "a;b", "column2": None},
        {"column0": 2, "column1": "", "column2": ""},
    ]  # named as DuckDB names them; with nullstr, an empty field is an empty string
    assert table_rows(reading("z.csv"), tmp_path) == [{"id": 2, "a": None, "b": None}]  # without: NULL
    assert table_rows(reading("y.tsv"), tmp_path) == [{"id": 1, "name": "x"}]  # a .tsv is tab-separated
    assert table_rows(reading("y.tsv", delim="\\t"), tmp_path) == [{"id": 1, "name": "x"}]  # '\t' as DuckDB


def test_no_matching_file_names_the_glob_and_the_model(tmp_path: Path) -> None:
    message = (
        f"models/events.sql: no file matches 'landing/*.csv', read by model events "
        f"(relative paths start at the project folder, {tmp_path})"
    )
    with pytest.raises(NodeFailedError, match=f"^{re.escape(message)}$"):
        read_files(reading("landing/*.csv").file_loads[0], tmp_path, reading("landing/*.csv"))


def test_an_unreadable_file_names_itself_the_glob_and_the_model(tmp_path: Path) -> None:
    write(tmp_path, {"landing/a.csv": "id,name\n1,a\n2,b,c\n"})
    node = reading("landing/*.csv")
    path = tmp_path / "landing" / "a.csv"
    prefix = f"models/events.sql: cannot read {path} ('landing/*.csv', read by model events): "
    with pytest.raises(
        NodeFailedError, match="^" + re.escape(prefix) + "CSV parse error: Expected 2 columns, got 3"
    ):
        read_files(node.file_loads[0], tmp_path, node)


def test_files_whose_columns_differ_cannot_be_one_table(tmp_path: Path) -> None:
    write(tmp_path, {"landing/a.csv": "id\n1\n", "landing/b.csv": "id\nx\n"})
    node = reading("landing/*.csv")
    with pytest.raises(
        NodeFailedError,
        match=r"^models/events\.sql: the files of 'landing/\*\.csv', read by model events, do not have the "
        r"same columns: .* \(give every file the same header and column types\)$",
    ):
        read_files(node.file_loads[0], tmp_path, node)


# -- loading ----------------------------------------------------------------------------------------------


def test_the_files_are_loaded_before_the_model_and_reloaded_under_its_view(
    no_files: Adapter, tmp_path: Path
) -> None:
    write(tmp_path, {"landing/a.csv": "id,page\n1,/cart\n", "landing/b.csv": "id,page\n2,/home\n"})
    node = reading("landing/*.csv")
    ctx = context(no_files, tmp_path)
    assert load_files(node, ctx) == 2
    materialize(node, ctx)
    assert rows(no_files, 'select * from "main"."events" order by id') == [(1, "/cart"), (2, "/home")]
    write(tmp_path, {"landing/c.csv": "id,page\n3,/about\n"})  # a new file arrives: the next run loads it
    ctx = context(no_files, tmp_path)
    assert load_files(node, ctx) == 3
    assert ctx.relations.get(TABLE) == "table"
    assert rows(no_files, 'select count(*) from "main"."events"') == [(3,)]
    assert [name for (_, name) in no_files.list_relations().relations] == [
        "__sqlflow_file_0123456789ab",
        "events",
    ]


def test_an_engine_that_reads_files_loads_nothing(adapter: Adapter, tmp_path: Path) -> None:
    write(tmp_path, {"landing/a.csv": "id\n1\n"})
    node = reading("landing/*.csv")
    assert load_files(node, context(adapter, tmp_path)) == 0
    assert adapter.list_relations().relations == {}
