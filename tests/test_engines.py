"""The engine table (sqlflow/engines.py): every spec's adapter module implements the Adapter protocol and
agrees with its spec, and nothing outside the table and the adapters asks which engine it runs on."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from sqlflow.adapters.base import Adapter
from sqlflow.engines import ENGINES, TARGET_TYPES, EngineSpec, engine, for_dialect
from sqlflow.errors import ConfigError

SQLFLOW = Path(__file__).resolve().parent.parent / "sqlflow"
# the files that may name an engine in a comparison, and why
ALLOWED = {
    "engines.py": "the table itself",
    "adapters/": "each adapter is its engine; adapters/sql.py spells catalog queries per engine",
    "compile/jinja/crossdb.py": "dbt's cross-database macros, spelled per adapter as dbt-duckdb and "
    "dbt-postgres spell them (next: a macro table per EngineSpec)",
    "compile/sql/portability.py": "sqlglot expression checks per target dialect (what sqlglot writes but "
    "the engine rejects); they need sqlglot, which engines.py must not import",
}
# a target type or dialect compared with an engine's name, or an engine-keyed table written by hand
ENGINE_LITERAL = r"""["'](?:duckdb|postgres|postgresql)["']"""
COMPARISONS = re.compile(
    rf"""(?:==|!=|\bin)\s*[(\[{{]?\s*{ENGINE_LITERAL}|{ENGINE_LITERAL}\s*(?:==|!=)|"""
    rf"""frozenset\(\{{\s*{ENGINE_LITERAL}|(?:\{{|^)\s*{ENGINE_LITERAL}\s*:"""
)
MEMBERS = sorted({name for name in vars(Adapter) if not name.startswith("_")} | set(Adapter.__annotations__))


def _adapter_class(spec: EngineSpec) -> type:
    pytest.importorskip(spec.driver)
    module = importlib.import_module(spec.adapter_module)
    assert callable(getattr(module, "open_adapter", None)), f"{spec.adapter_module} has no open_adapter"
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass) if getattr(c, "spec", None) is spec]
    return cls


@pytest.mark.parametrize("name", TARGET_TYPES)
def test_every_spec_has_an_adapter_module_implementing_the_protocol(name: str) -> None:
    spec = ENGINES[name]
    cls = _adapter_class(spec)
    missing = [m for m in MEMBERS if not hasattr(cls, m)]
    assert missing == [], f"{cls.__name__} lacks {missing}"
    assert (cls.type, cls.dialect) == (spec.name, spec.dialect)  # type: ignore[attr-defined]
    flags = ("replace_table_atomically", "replace_view", "case_insensitive_identifiers")
    assert {f: getattr(cls, f) for f in flags} == {f: getattr(spec, f) for f in flags}
    assert cls.reads_csv_in_sql == spec.reads_files_in_sql  # type: ignore[attr-defined]


def test_an_unknown_target_type_names_the_supported_ones() -> None:
    with pytest.raises(
        ConfigError,
        match=re.escape("unknown target type 'duckbd' (did you mean 'duckdb'? supported: duckdb, postgres)"),
    ):
        engine("duckbd")
    assert for_dialect("postgres") is ENGINES["postgres"] and for_dialect("bigquery") is None


def test_specs_quote_and_fold_as_their_engines_do() -> None:
    duck, pg = ENGINES["duckdb"], ENGINES["postgres"]
    assert duck.quote('a"b') == pg.quote('a"b') == '"a""b"'
    assert duck.string_literal("it's") == "'it''s'"
    assert (duck.fold("Orders"), pg.fold("Orders")) == ("Orders", "orders")
    assert (duck.default_schema, pg.default_schema) == ("main", "public")


def test_nothing_outside_the_engine_table_compares_with_an_engine_name() -> None:
    found = []
    for path in sorted(SQLFLOW.rglob("*.py")):
        shown = path.relative_to(SQLFLOW).as_posix()
        if any(shown == a or (a.endswith("/") and shown.startswith(a)) for a in ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if COMPARISONS.search(line) and not line.lstrip().startswith((">>>", "...", "#")):
                found.append(f"sqlflow/{shown}:{number}: {line.strip()}")
    assert found == [], "read sqlflow.engines instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        'if target.type == "duckdb":',
        "if dialect != 'postgres':",
        'typeof = "pg_typeof" if "postgres" == adapter.dialect else "typeof"',
        'READS = frozenset({"duckdb"})',
        'SCHEMAS = {"duckdb": "main"}',
        'if engine in ("duckdb", "motherduck"):',
        '    "postgres": (',
    ],
)
def test_the_grep_catches_the_usual_spellings(line: str) -> None:
    assert COMPARISONS.search(line)
