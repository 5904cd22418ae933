"""The generic tests of property YAML as TestNodes: dbt-style names and ids, and SQL returning the failing
rows, for the built-in tests (not_null, unique, accepted_values, relationships) and `{% test %}` macros.

Built-in test SQL is written in the target dialect with identifiers quoted by sqlglot (`sql.quote_name`);
the `sql` module is handed in so that a cache hit never imports sqlglot. Called by the compiler with its
state (lookup, renderer, cache).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlflow.compile.cache import digest
from sqlflow.compile.names import Resolved, folders_of, has_jinja, node_config
from sqlflow.errors import ConfigError, DuplicateNodeError, SourceLocation, did_you_mean
from sqlflow.manifest import Relation, TestNode
from sqlflow.project.config import folder_config, merge_config
from sqlflow.project.types import TestSpec

if TYPE_CHECKING:
    from sqlflow.compile.compiler import _Compile
    from sqlflow.compile.drafts import Draft
    from sqlflow.compile.querying import Query

BUILTIN_TESTS = ("not_null", "unique", "accepted_values", "relationships")
_UNSAFE = re.compile(r"[^0-9a-zA-Z_]+")
_EXPRESSION = re.compile(r"[()|+*/:]")  # a column_name that is an expression, not a name
MAX_NAME = 64


def test_name(spec: TestSpec, target_name: str, *, prefix: str = "") -> str:
    """dbt's generated test name: `not_null_orders_order_id`, `accepted_values_orders_status__a__b`.

    `target_name` is the model or seed name, or `<source>_<table>` with `prefix` "source_". A name of 64
    characters or more becomes its first 30 characters and an md5 of the whole, as dbt does.

    >>> spec = TestSpec(test_name="accepted_values", column_name="status", kwargs={"values": ["a", "b"]})
    >>> test_name(spec, "orders")
    'accepted_values_orders_status__a__b'
    """
    if spec.name:
        return spec.name
    args: dict[str, Any] = dict(_arguments(spec))
    if spec.column_name:
        args["column_name"] = spec.column_name
    flat: list[str] = []
    for _, value in sorted(args.items()):
        flat.extend(_flatten(value))
    identifier = f"{prefix}{spec.test_name}_{target_name}"
    name = f"{identifier}_" + "__".join(_UNSAFE.sub("_", part) for part in flat)
    if len(name) >= MAX_NAME:
        name = f"{identifier[:30]}_{hashlib.md5(name.encode()).hexdigest()}"
    return name


def _flatten(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _flatten(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _flatten(v)]
    return [str(value)]


def _arguments(spec: TestSpec) -> Mapping[str, Any]:
    kwargs = dict(spec.kwargs)
    nested = kwargs.pop("arguments", None)
    if isinstance(nested, Mapping):
        kwargs.update(nested)
    return kwargs


def arguments(spec: TestSpec) -> dict[str, Any]:
    """The test's arguments, `arguments:` flattened in, without column_name."""
    return dict(_arguments(spec))


def test_unique_id(project_name: str, name: str, spec: TestSpec, attached: str) -> str:
    """`test.<project>.<name>.<10 hex>`, the hash over what makes the test distinct."""
    basis = repr(
        (name, attached, spec.test_name, spec.column_name, sorted(_arguments(spec).items(), key=str))
    )
    return f"test.{project_name}.{name}.{hashlib.md5(basis.encode()).hexdigest()[:10]}"


def column_sql(sql: ModuleType, column: str, dialect: str) -> str:
    """A column name as SQL; a `column_name` written as an expression is kept as written."""
    return column if _EXPRESSION.search(column) else sql.quote_name(column, dialect)


def builtin_sql(
    sql: ModuleType,
    spec: TestSpec,
    *,
    relation: str,
    to_relation: str | None,
    dialect: str,
    where: str | None,
    limit: int | None,
) -> str:
    """The SQL of a built-in generic test over `relation` (already SQL text): it selects the failing rows."""
    location = SourceLocation(spec.path, spec.line)
    args = arguments(spec)
    column = spec.column_name or args.get("column_name")
    if not column:
        raise ConfigError(
            f"test '{spec.test_name}' needs a column",
            location=location,
            hint="declare it under a column, or give column_name",
        )
    col = column_sql(sql, str(column), dialect)
    source = relation if not where else f"(select * from {relation} where {where}) as dbt_subquery"
    if spec.test_name == "not_null":
        text = f"select {col}\nfrom {source}\nwhere {col} is null"
    elif spec.test_name == "unique":
        text = (
            f"select {col} as unique_field, count(*) as n_records\nfrom {source}\n"
            f"where {col} is not null\ngroup by {col}\nhaving count(*) > 1"
        )
    elif spec.test_name == "accepted_values":
        values = args.get("values")
        if not isinstance(values, list | tuple) or not values:
            raise ConfigError(
                "test 'accepted_values' needs a list of values",
                location=location,
                hint="write 'accepted_values: {values: [a, b]}'",
            )
        quote = args.get("quote", True)
        listed = ", ".join(sql.quote_value(str(v), dialect) if quote else str(v) for v in values)
        text = (
            f"select {col} as value_field, count(*) as n_records\nfrom {source}\n"
            f"where {col} not in ({listed})\ngroup by {col}"
        )
    else:  # relationships
        field = args.get("field")
        if not field or to_relation is None:
            raise ConfigError(
                "test 'relationships' needs 'to' and 'field'",
                location=location,
                hint="write 'relationships: {to: ref(\\'customers\\'), field: id}'",
            )
        parent_col = column_sql(sql, str(field), dialect)
        text = (
            f"select child.from_field\n"
            f"from (select {col} as from_field from {source} where {col} is not null) as child\n"
            f"left join (select {parent_col} as to_field from {to_relation}) as parent\n"
            f"  on child.from_field = parent.to_field\n"
            f"where parent.to_field is null"
        )
    if limit is not None:
        text += f"\nlimit {int(limit)}"
    return text


def unknown_test(spec: TestSpec, macros: Mapping[str, str]) -> ConfigError:
    known = [*BUILTIN_TESTS, *(m.removeprefix("test_") for m in macros if m.startswith("test_"))]
    return ConfigError(
        f"unknown test '{spec.test_name}'",
        location=SourceLocation(spec.path, spec.line),
        hint=did_you_mean(spec.test_name, known) or "define it with {% test " + spec.test_name + "(model) %}",
    )


# -- building the test nodes -------------------------------------------------------------------------


def generic_test_nodes(c: _Compile, drafts: Iterable[Draft]) -> list[tuple[TestNode, Query | None]]:
    """A TestNode per test of the property YAML of the enabled models, seeds and sources.

    A test whose SQL still needs writing (an ephemeral model to inline, a custom test to transpile) comes
    with its analysed Query; the compiler emits it after the DAG check.
    """
    p = c.project
    owners: list[tuple[str, str, Iterable[TestSpec]]] = [
        (d.unique_id, d.name, d.properties.tests) for d in drafts if d.kind != "test" and d.properties
    ]
    owners += [
        (f"source.{p.name}.{t.source_name}.{t.name}", f"{t.source_name}_{t.name}", t.tests)
        for t in p.source_tables
    ]
    out: list[tuple[TestNode, Query | None]] = []
    seen: dict[str, TestSpec] = {}
    for attached, target_name, specs in owners:
        for spec in specs:
            prefix = "source_" if attached.startswith("source.") else ""
            name = test_name(spec, target_name, prefix=prefix)
            uid = test_unique_id(p.name, name, spec, attached)
            if uid in seen:
                other = seen[uid]
                raise DuplicateNodeError(
                    f"two tests are named '{name}'",
                    location=SourceLocation(spec.path, spec.line),
                    hint=f"the other is at {SourceLocation(other.path, other.line)}; give one a name:",
                )
            seen[uid] = spec
            fqn = (p.name, *folders_of(spec.path, (*p.model_paths, *p.seed_paths)), name)
            merged = merge_config(folder_config(p.test_configs, fqn), spec.config)
            config = node_config(merged, materialized="test")
            if not config.enabled:
                continue
            node = TestNode(
                unique_id=uid,
                name=name,
                package_name=p.name,
                path=spec.path,
                fqn=fqn,
                test_type="generic",
                test_name=spec.test_name,
                raw_sql="{{ test_" + spec.test_name + "(**_sqlflow_test_kwargs) }}",
                checksum=digest(spec),
                config=config,
                attached_node=attached,
                column_name=spec.column_name,
                kwargs=arguments(spec),
                line=spec.line,
                description=spec.description,
            )
            out.append(_compiled_test(c, node, spec, merged))
    return out


def _compiled_test(
    c: _Compile, node: TestNode, spec: TestSpec, merged: Mapping[str, Any]
) -> tuple[TestNode, Query | None]:
    key = digest(c.global_key, c.relations_key, spec, merged, node.attached_node)
    volatile = any(v in repr((spec, merged)) for v in ("run_started_at", "invocation_id"))
    c.test_keys[node.unique_id] = key
    cached = None if volatile else c.cache.get("test", node.unique_id, key)
    if cached is not None:
        compiled_sql, depends_on, refs, sources = cached
        return replace(
            node, compiled_sql=compiled_sql, depends_on=depends_on, refs=refs, sources=sources
        ), None
    sql, querying = c.sql_tools()
    location = SourceLocation(spec.path, spec.line)

    def at_spec(kind: str, args: tuple[str, ...], _: SourceLocation) -> tuple[Relation, str]:
        return c.resolve(kind, args, location)

    def relation_sql(found: Resolved) -> str:
        if found.ephemeral:
            return found.ref_text
        return sql.quote_relation(found.relation, c.target_dialect, found.include_database)

    assert node.attached_node is not None
    attached = c.lookup.by_uid[node.attached_node]
    depends = {attached.unique_id}
    refs: set[str] = set()
    sources: set[tuple[str, str]] = set()
    where = node.config.where
    if where and has_jinja(where):
        where = c.renderer.render(spec.path, text=where, resolve=at_spec).sql
    if spec.test_name in BUILTIN_TESTS:
        to_sql = None
        if spec.test_name == "relationships" and arguments(spec).get("to") is not None:
            to = arguments(spec)["to"]
            if not isinstance(to, str):
                raise ConfigError(
                    "'to' of test 'relationships' must be ref('...') or source('...', '...')",
                    location=location,
                )
            result = c.renderer.render(
                spec.path, text=to if has_jinja(to) else "{{ " + to + " }}", resolve=at_spec
            )
            calls = [("ref", call.args) for call in result.refs] + [
                ("source", call.args) for call in result.sources
            ]
            if len(calls) != 1:
                raise ConfigError(
                    f"'to' of test 'relationships' must name one model or source, not {to!r}",
                    location=location,
                )
            kind, args = calls[0]
            found = c.lookup.ref(args, location) if kind == "ref" else c.lookup.source(args, location)
            depends.add(found.unique_id)
            if kind == "ref":
                refs.add(args[-1])
            else:
                sources.add((args[0], args[1]))
            to_sql = relation_sql(found)
        text = builtin_sql(
            sql,
            spec,
            relation=relation_sql(attached),
            to_relation=to_sql,
            dialect=c.target_dialect,
            where=where,
            limit=node.config.limit,
        )
        query = None
        if any(c.lookup.by_uid[uid].ephemeral for uid in depends):
            query = querying.analyse(
                text,
                dialect=c.target_dialect,
                lookup=c.lookup,
                self_uid=None,
                path=spec.path,
                raw_text=text,
                templated=False,
            )
    else:
        macro = "test_" + spec.test_name
        if macro not in c.renderer.macros:
            raise unknown_test(spec, c.renderer.macros)
        model_sql = relation_sql(attached)
        if where:
            model_sql = f"(select * from {model_sql} where {where}) as dbt_subquery"
        kwargs = arguments(spec)
        if spec.column_name:
            kwargs["column_name"] = spec.column_name
        kwargs["model"] = c.renderer.relation_ref(attached.relation, model_sql)
        result = c.renderer.render(
            spec.path,
            text="{{ " + macro + "(**__sqlflow_test_kwargs) }}",
            resolve=at_spec,
            extra={"__sqlflow_test_kwargs": kwargs},
        )
        text = result.sql
        if node.config.limit is not None:
            inner = sql.strip_statement_end(text, c.dialect)
            text = f"select * from (\n{inner}\n) as dbt_limited limit {int(node.config.limit)}"
        refs |= {call.args[-1] for call in result.refs}
        sources |= {(call.args[0], call.args[1]) for call in result.sources}
        depends |= {c.lookup.ref(call.args, location).unique_id for call in result.refs}
        depends |= {c.lookup.source(call.args, location).unique_id for call in result.sources}
        query = querying.analyse(
            text,
            dialect=c.dialect,
            lookup=c.lookup,
            self_uid=None,
            path=spec.path,
            raw_text=text,
            templated=False,
        )
        depends |= query.depends_on
    node = replace(
        node,
        compiled_sql=text,
        depends_on=tuple(sorted(depends)),
        refs=tuple(sorted(refs)),
        sources=tuple(sorted(sources)),
    )
    if query is None and not volatile:
        c.cache.put("test", node.unique_id, key, (text, node.depends_on, node.refs, node.sources))
    return node, query
