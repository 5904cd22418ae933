"""Files read in SQL, compiled for PostgreSQL (which cannot read them): read_csv(...) becomes a table beside
the model that the runner loads first (`ModelNode.file_loads`); DuckDB keeps reading the files itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlflow.artifacts import manifest_document
from sqlflow.compile import compile_project
from sqlflow.errors import TranspileError
from sqlflow.manifest import FileLoad, ModelNode, Relation
from sqlflow.project import load_project

TEMPLATE = Path(__file__).parents[2] / "project_template"
EVENTS = "models/stg_events.sql"


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def model(manifest, name: str) -> ModelNode:
    node = manifest.nodes[f"model.shop.{name}"]
    assert isinstance(node, ModelNode)
    return node


def test_read_csv_reads_a_table_loaded_beside_the_model_on_postgres(compile_files) -> None:
    sql = "select event_id, page\nfrom read_csv('landing/*.csv', header = true, sep = ';') as e\n"
    node = model(compile_files({EVENTS: sql}, target_dialect="postgres"), "stg_events")
    name = node.file_loads[0].relation.identifier
    assert re.fullmatch(r"__sqlflow_file_[0-9a-f]{12}", name)
    assert node.compiled_sql == f'SELECT event_id, page FROM "main"."{name}" AS e'
    assert node.file_loads == (
        FileLoad(
            relation=Relation(database=node.relation.database, schema="main", identifier=name),
            paths=("landing/*.csv",),
            options={"header": True, "delim": ";"},
        ),
    )
    assert node.file_reads == ("landing/*.csv",)  # as written: file sensors still guard the model
    assert model(compile_files({EVENTS: sql}, target_dialect="postgres"), "stg_events").file_loads == (
        node.file_loads
    )  # the same name on every compile


def test_duckdb_reads_the_files_itself(compile_files) -> None:
    sql = "select event_id from read_csv('landing/*.csv', header = true)"
    node = model(compile_files({EVENTS: sql}), "stg_events")
    assert node.compiled_sql == sql
    assert node.file_loads == ()
    assert node.file_reads == ("landing/*.csv",)


def test_every_csv_read_of_a_model_is_loaded_in_its_own_schema(compile_files) -> None:
    sql = """\
        {{ config(schema='raw') }}
        select * from 'landing/a.csv'
        union all select * from read_csv_auto(['landing/b.csv', 'landing/c.csv'], delim = '|', skip = 1)
        union all select * from read_csv(path = 'landing/d.tsv', nullstr = 'NA', auto_detect = true)
        """
    node = model(compile_files({EVENTS: sql}, target_dialect="postgres"), "stg_events")
    loads = [(f.relation.schema, f.paths, dict(f.options)) for f in node.file_loads]
    assert loads == [
        ("main_raw", ("landing/a.csv",), {}),
        ("main_raw", ("landing/b.csv", "landing/c.csv"), {"delim": "|", "skip": 1}),
        ("main_raw", ("landing/d.tsv",), {"nullstr": "NA"}),
    ]
    tables = [f'"main_raw"."{f.relation.identifier}"' for f in node.file_loads]
    assert node.compiled_sql == " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables)


def test_two_models_reading_the_same_files_load_tables_of_their_own(compile_files) -> None:
    sql = "select * from read_csv('landing/*.csv')"
    manifest = compile_files({"models/a.sql": sql, "models/b.sql": sql}, target_dialect="postgres")
    a, b = model(manifest, "a").file_loads, model(manifest, "b").file_loads
    assert a[0].paths == b[0].paths and a[0].relation != b[0].relation


def test_the_manifest_json_lists_the_loads(compile_files) -> None:
    manifest = compile_files(
        {EVENTS: "select * from read_csv('x.csv', header = false)"}, target_dialect="postgres"
    )
    doc = manifest_document(manifest)["nodes"]["model.shop.stg_events"]["config"]["sqlflow"]["file_loads"]
    relation = model(manifest, "stg_events").file_loads[0].relation
    assert doc == [
        {
            "relation": {"database": relation.database, "schema": "main", "identifier": relation.identifier},
            "paths": ["x.csv"],
            "options": {"header": False},
        }
    ]


def test_the_template_compiles_for_postgres(write, golden) -> None:
    """The template's SQL, written for DuckDB, as PostgreSQL runs it: the landing files read from a loaded
    table, and the filtered ref of the time-range model aliased."""
    root = write(
        {
            "profiles.yml": """\
                shop:
                  target: pg
                  outputs:
                    pg: {type: postgres, host: 127.0.0.1, port: 5432, user: postgres, dbname: test,
                         schema: shop}
                """
        },
        base=_copy_template(write),
    )
    manifest = compile_project(load_project(root), target_dialect="postgres")
    events = model(manifest, "stg_web_events")
    assert [
        (f.relation.schema, f.relation.database, f.paths, dict(f.options)) for f in events.file_loads
    ] == [("shop", "test", ("landing/*.csv",), {"header": True})]
    for name in ("stg_web_events", "daily_visits"):
        golden(f"template_postgres/{name}.sql", model(manifest, name).compiled_sql or "")


def _copy_template(write) -> Path:
    files = {
        str(path.relative_to(TEMPLATE)): path.read_text(encoding="utf-8")
        for path in TEMPLATE.rglob("*")
        if path.is_file() and path.suffix in (".sql", ".yml", ".csv")
    }
    return write(files)


# -- what cannot be loaded: errors at the model's file:line ----------------------------------------------


CANNOT = "postgres cannot read files in SQL, and sqlflow loads only CSV files for it"
LOAD_IT = "(read the file with read_csv, or load it into a source table before the run)"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "select *\nfrom read_parquet('landing/*.parquet')",
            f"models/stg_events.sql:2: {CANNOT}: read_parquet(...) {LOAD_IT}",
        ),
        (
            "select *\nfrom 'landing/events.json'",
            f"models/stg_events.sql:2: {CANNOT}: 'landing/events.json' {LOAD_IT}",
        ),
        (
            "select *\n\nfrom read_csv('x.csv', columns = {'a': 'INT'})",
            "models/stg_events.sql:3: read_csv option 'columns' is not supported when sqlflow loads the "
            "files for postgres (sqlflow honours header, delim (or sep), quote, escape, skip and nullstr; "
            "cast columns in the SELECT instead)",
        ),
        (
            "select * from read_csv('x.csv', header = 'yes')",
            "models/stg_events.sql:1: read_csv option 'header' needs a bool literal, not 'yes'",
        ),
        (
            "select *\nfrom read_csv(concat('landing', '/*.csv'))",
            "models/stg_events.sql:2: read_csv needs its files as a string literal (or a list of them) to "
            "be loaded for postgres (write the path or glob in the SQL, e.g. read_csv('landing/*.csv'))",
        ),
    ],
)
def test_a_file_read_that_cannot_be_loaded(compile_files, sql: str, message: str) -> None:
    with pytest.raises(TranspileError, match=exactly(message)):
        compile_files({EVENTS: sql}, target_dialect="postgres")


def test_the_loads_come_back_from_the_compile_cache(write, tmp_path: Path) -> None:
    root = write({EVENTS: "select * from read_csv('landing/*.csv', delim = '|')"})
    cache = tmp_path / "cache"
    first = compile_project(load_project(root), target_dialect="postgres", cache_dir=cache)
    again = compile_project(load_project(root), target_dialect="postgres", cache_dir=cache)
    assert model(again, "stg_events").file_loads == model(first, "stg_events").file_loads
    assert model(again, "stg_events").file_loads[0].options == {"delim": "|"}
    assert model(again, "stg_events").compiled_sql == model(first, "stg_events").compiled_sql
