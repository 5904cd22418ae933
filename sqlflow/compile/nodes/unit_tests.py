"""dbt unit tests: a model's inputs replaced by fixture rows (CTEs), its output compared with the expected
rows as a multiset, over the columns `expect` names.

`unit_test_nodes` (called by the compiler) renders the tested model with each given `ref()` / `source()` /
`this` printing as a fixture CTE, and makes a TestNode (test_type "unit", unique id
`unit_test.<project>.<model>.<name>`) whose SQL returns the differing rows: `diff` '+' for a row the
model returned and `expect` lacks, '-' for an expected row it did not return. `kwargs` keep the parts, so
that the runner (checks/unit_tests.py) can rebuild that SQL with every value cast to the column types of the
real input relations and of the model's output, as dbt does; `unit_test_sql` builds it either way.
Pure functions but `unit_test_nodes`; imports sqlglot only through the compiler's `sql` module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlflow.compile.cache import digest
from sqlflow.compile.nodes.configs import node_config
from sqlflow.compile.nodes.models import model_dialect
from sqlflow.engines import quote_identifier, quote_string
from sqlflow.errors import ConfigError, SourceLocation, UnknownRefError, did_you_mean
from sqlflow.manifest import TestNode
from sqlflow.project.types import UnitTestSpec

if TYPE_CHECKING:
    from sqlflow.compile.context import CompileContext
    from sqlflow.compile.nodes.drafts import Draft

_INPUT = re.compile(r"""^(ref|source)\(\s*(['"])([^'"]+)\2\s*(?:,\s*(['"])([^'"]+)\4\s*)?\)$""")
DIFF_COLUMN = "diff"
ACTUAL, EXPECTED = "dbt_internal_unit_test_actual", "dbt_internal_unit_test_expected"


# -- the SQL ------------------------------------------------------------------------------------------------


def quote(name: str) -> str:
    return quote_identifier(name)


def literal(value: Any) -> str:
    """A fixture value as SQL text (before any cast).

    >>> literal(None), literal(True), literal(3), literal("it's"), literal(dt.date(2024, 1, 5))
    ('null', 'true', '3', "'it''s'", "'2024-01-05'")
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return (
            "'" + value.isoformat(sep=" ") + "'"
            if isinstance(value, dt.datetime)
            else f"'{value.isoformat()}'"
        )
    if isinstance(value, list | dict):
        value = json.dumps(value)
    return quote_string(value)


def rows_select(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], types: Mapping[str, str] | None = None
) -> str:
    """`select ... union all select ...` of `rows` over `columns` (a missing value is null); each value cast
    to `types[column]` (keys lower case) when known. No rows: one row of nulls, `limit 0`."""

    def value(row: Mapping[str, Any], column: str) -> str:
        found = next((v for k, v in row.items() if k.lower() == column.lower()), None)
        text = literal(found)
        kind = (types or {}).get(column.lower())
        return f"cast({text} as {kind})" if kind else text

    if not columns:
        return "select null as " + quote("__no_columns") + " limit 0"
    selects = [
        "select " + ", ".join(f"{value(row, c)} as {quote(c)}" for c in columns) for row in (rows or [{}])
    ]
    return "\nunion all\n".join(selects) + ("\nlimit 0" if not rows else "")


def fixture_body(fixture: Mapping[str, Any], types: Mapping[str, str] | None = None) -> str:
    """The SQL of one given input: its rows over the relation's columns (all of them, when `types` are known,
    in their order), or the SQL written with `format: sql`."""
    if fixture["format"] == "sql":
        return str(fixture["sql"]).strip().rstrip(";")
    rows = fixture["rows"]
    if types:
        known = {k.lower() for k in types}
        extra = [c for c in fixture["columns"] if c.lower() not in known]
        if extra:
            raise ConfigError(
                f"invalid column name '{extra[0]}' in the rows given for {fixture['input']}",
                hint="accepted columns: " + ", ".join(types),
            )
        return rows_select(rows, list(types), types)
    return rows_select(rows, fixture["columns"])


def unit_test_sql(
    kwargs: Mapping[str, Any],
    fixture_types: Mapping[str, Mapping[str, str]] | None = None,
    actual_types: Mapping[str, str] | None = None,
) -> str:
    """The SQL returning the rows that differ between the model's output and `expect` (see the module doc).

    `fixture_types` (CTE name -> column -> type) and `actual_types` (column -> type, lower-case names) make
    every value a cast, as dbt writes its fixtures; without them the values are plain literals.
    """
    ctes = [
        f"{fixture['cte']} as (\n{fixture_body(fixture, (fixture_types or {}).get(fixture['cte']))}\n)"
        for fixture in kwargs["fixtures"]
    ]
    return "with " + ",\n".join([*ctes, *comparison_ctes(kwargs, actual_types)]) + "\n" + _diff_select()


def actual_sql(
    kwargs: Mapping[str, Any], fixture_types: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The model's output, with its inputs as fixtures (to read its column types)."""
    ctes = [
        f"{fixture['cte']} as (\n{fixture_body(fixture, (fixture_types or {}).get(fixture['cte']))}\n)"
        for fixture in kwargs["fixtures"]
    ]
    select = f"select * from (\n{kwargs['model_sql']}\n) as _dbt_internal_unit_test_actual"
    return ("with " + ",\n".join(ctes) + "\n" if ctes else "") + select


def comparison_ctes(kwargs: Mapping[str, Any], actual_types: Mapping[str, str] | None) -> list[str]:
    """The model's output and the expected rows, over the columns `expect` names (all, when it has none)."""
    columns = kwargs["expect"]["columns"]
    listed = ", ".join(quote(c) for c in columns) or "*"
    model_sql = kwargs["model_sql"]
    actual = f"{ACTUAL} as (\nselect {listed} from (\n{model_sql}\n) as _dbt_internal_unit_test_actual\n)"
    if not columns:
        return [actual, f"{EXPECTED} as (\nselect * from {ACTUAL} limit 0\n)"]
    expected_rows = rows_select(kwargs["expect"]["rows"], columns, actual_types)
    expected = (
        f"{EXPECTED} as (\nselect {listed} from (\n{expected_rows}\n) as _dbt_internal_unit_test_expected\n)"
    )
    return [actual, expected]


def _diff_select() -> str:
    plus = f"select * from {ACTUAL} except all select * from {EXPECTED}"
    minus = f"select * from {EXPECTED} except all select * from {ACTUAL}"
    return (
        f"select '+' as {DIFF_COLUMN}, * from ({plus}) as a\n"
        f"union all\nselect '-' as {DIFF_COLUMN}, * from ({minus}) as e"
    )


def csv_rows(text: str) -> list[dict[str, Any]]:
    """Rows written as CSV (`format: csv`); an empty field is null.

    >>> csv_rows("id,name\\n1,a\\n2,\\n")
    [{'id': '1', 'name': 'a'}, {'id': '2', 'name': None}]
    """
    reader = csv.DictReader(io.StringIO(text.strip() + "\n"))
    return [{k.strip(): (v if v != "" else None) for k, v in row.items() if k is not None} for row in reader]


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


# -- the nodes ----------------------------------------------------------------------------------------------


def unit_test_nodes(c: CompileContext, drafts: Sequence[Draft]) -> list[TestNode]:
    """A TestNode per enabled unit test of the project (see the module doc)."""
    models = {d.name: d for d in drafts if d.kind == "model"}
    out: list[TestNode] = []
    for spec in c.project.unit_tests:
        config = node_config(spec.config, materialized="test")
        if not config.enabled:
            continue
        where = SourceLocation(spec.path, spec.line)
        draft = models.get(spec.model)
        if draft is None and spec.model in c.lookup.disabled:
            continue  # the unit tests of a disabled model are disabled too, as in dbt
        if draft is None:
            raise UnknownRefError(
                f"unit test '{spec.name}' tests unknown model '{spec.model}'",
                location=where,
                hint=did_you_mean(spec.model, models),
            )
        out.append(_node(c, spec, draft, config, where))
    return out


def _node(
    c: CompileContext, spec: UnitTestSpec, draft: Draft, config: Any, where: SourceLocation
) -> TestNode:
    project = c.project.name
    fixtures: dict[tuple[str, ...], dict[str, Any]] = {}
    for given in spec.given:
        at = SourceLocation(spec.path, given.get("line", spec.line))
        key, relation, cte = _input(c, spec, given["input"], draft, at)
        rows = given["rows"]
        fixture: dict[str, Any] = {"input": given["input"], "cte": cte, "format": given["format"]}
        fixture["relation"] = relation
        if given["format"] == "sql":
            fixture["sql"] = rows
        else:
            fixture["rows"] = csv_rows(rows) if given["format"] == "csv" else rows
            fixture["columns"] = columns_of(fixture["rows"])
        fixtures[key] = fixture
    overrides = spec.overrides.get("macros") or {}
    incremental = bool(overrides.get("is_incremental", False))
    extra = {name: _constant(value) for name, value in overrides.items() if name != "is_incremental"}
    this = c.lookup.by_uid.get(draft.unique_id)
    this_fixture = fixtures.get(("this",))

    def resolve(kind: str, args: tuple[str, ...], location: SourceLocation) -> tuple[Any, ...]:
        found = c.lookup.ref(args, location) if kind == "ref" else c.lookup.source(args, location)
        key = ("ref", args[-1]) if kind == "ref" else ("source", *args)
        fixture = fixtures.get(key)
        if fixture is None:
            shown = f"ref('{args[-1]}')" if kind == "ref" else f"source('{args[0]}', '{args[1]}')"
            raise ConfigError(
                f"unit test '{spec.name}' gives no rows for {shown}, which model '{draft.name}' reads",
                location=where,
                hint=f"add '- input: {shown}' with 'rows: []' (or the rows it needs) under given:",
            )
        return found.relation, fixture["cte"]

    result = c.renderer.render(
        draft.file.path,
        text=draft.template,
        resolve=resolve,
        this=this.relation if this else None,
        this_text=this_fixture["cte"] if this_fixture else (this.ref_text if this else None),
        incremental=incremental,
        config=draft.merged,
        extra=extra,
        vars=spec.overrides.get("vars") or None,
        env=spec.overrides.get("env_vars") or None,
        execute=not draft.late,  # its queries would read tables a build has not made yet
    )
    model_sql = _target_sql(c, draft, result.sql)
    expect_rows = spec.expect["rows"]
    if spec.expect["format"] == "csv":
        expect_rows = csv_rows(expect_rows)
    elif spec.expect["format"] == "sql":
        raise ConfigError(
            f"unit test '{spec.name}': format sql is not supported for expect",
            location=where,
            hint="write the expected rows as format dict or csv",
        )
    kwargs = {
        "model": draft.name,
        "fixtures": list(fixtures.values()),
        "model_sql": model_sql,
        "expect": {"columns": columns_of(expect_rows) or [], "rows": expect_rows},
        "this": this.ref_text if this else None,
    }
    refs = sorted({k[1] for k in fixtures if k[0] == "ref"})
    sources = sorted((k[1], k[2]) for k in fixtures if k[0] == "source")
    return TestNode(
        unique_id=f"unit_test.{project}.{draft.name}.{spec.name}",
        name=spec.name,
        package_name=project,
        path=spec.path,
        fqn=(project, *draft.fqn[1:-1], draft.name, spec.name),
        test_type="unit",
        test_name="unit",
        raw_sql="",
        checksum=digest(spec),
        config=config,
        attached_node=draft.unique_id,
        kwargs=kwargs,
        line=spec.line,
        description=spec.description,
        compiled_sql=unit_test_sql(kwargs),
        depends_on=(draft.unique_id,),
        refs=tuple(refs),
        sources=tuple(sources),
    )


def _input(
    c: CompileContext, spec: UnitTestSpec, written: str, draft: Draft, at: SourceLocation
) -> tuple[tuple[str, ...], str | None, str]:
    """(key, relation text of the real input or None, CTE name) of one `input:`."""
    text = written.strip()
    if text == "this":
        this = c.lookup.by_uid.get(draft.unique_id)
        return ("this",), this.ref_text if this else None, f"__dbt__cte__{draft.name}"
    match = _INPUT.match(text)
    if match is None:
        raise ConfigError(
            f"cannot read input {written!r} of unit test '{spec.name}'",
            location=at,
            hint="write ref('model'), source('source', 'table') or this",
        )
    kind, first, second = match.group(1), match.group(3), match.group(5)
    if kind == "ref":
        found = c.lookup.ref(tuple(a for a in (first, second) if a), at)
        relation = None if found.ephemeral else found.ref_text
        return ("ref", found.name), relation, f"__dbt__cte__{found.name}"
    if second is None:
        raise ConfigError(f"source() in input of unit test '{spec.name}' needs two names", location=at)
    found = c.lookup.source((first, second), at)
    return ("source", first, second), found.ref_text, f"__dbt__cte__{first}__{second}"


def _constant(value: Any) -> Any:
    def macro(*args: Any, **kwargs: Any) -> Any:
        return value

    return macro


def _target_sql(c: CompileContext, draft: Draft, text: str) -> str:
    """The rendered model in the target dialect, without a trailing semicolon."""
    sql, _ = c.sql_tools()
    text = sql.strip_statement_end(text, c.dialect)
    dialect = c.checked_dialect(model_dialect(draft, c.dialect), draft.file.path)
    if dialect == c.target_dialect:
        return text.strip()
    try:
        return sql.generate(sql.parse_query(text, dialect), c.target_dialect)
    except sql.SqlProblem as problem:
        raise ConfigError(
            f"unit test of model '{draft.name}': {problem}", location=SourceLocation(draft.file.path)
        ) from problem
