"""The tests of property YAML as TestNodes: dbt-style names and ids, and SQL returning the failing rows, for
the built-in tests (`builtin_tests.py`) and `{% test %}` macros; Great Expectations checks (`expectations:`)
as TestNodes without SQL (test_type "expectation"), run by `sqlflow.checks.gx`.

The `sql` module is handed to the built-in tests so that a cache hit never imports sqlglot. A test's Jinja
(its macro call, a `where`, `to:` or `expression`) is rendered and analysed like a model's
(nodes/analyse.py), with the context (lookup, renderer, cache).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlflow.compile.cache import digest
from sqlflow.compile.context import VOLATILE, CompileContext
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.lookup import Resolved
from sqlflow.compile.nodes.analyse import Job, RenderedText, analyse, call_names, depends_of, render
from sqlflow.compile.nodes.builtin_tests import (
    BUILTIN_TESTS,
    DBT_UTILS_TESTS,
    OVERRIDABLE_TESTS,
    builtin_sql,
    canonical_test_name,
)
from sqlflow.compile.nodes.configs import node_config
from sqlflow.compile.nodes.drafts import Pending, folders_of
from sqlflow.errors import ConfigError, DuplicateNodeError, SourceLocation, did_you_mean
from sqlflow.manifest import NodeConfig, TestNode
from sqlflow.project.config import folder_config, merge_config
from sqlflow.project.types import TestSpec

if TYPE_CHECKING:
    from sqlflow.compile.nodes.drafts import Draft

_UNSAFE = re.compile(r"[^0-9a-zA-Z_]+")
MAX_NAME = 64
RENDERED_ARGUMENTS = ("expression", "min_value", "max_value")  # built-in test arguments that may hold Jinja


def test_name(spec: TestSpec, target_name: str, *, prefix: str = "", full: bool = False) -> str:
    """dbt's generated test name: `not_null_orders_order_id`, `accepted_values_orders_status__a__b`.

    `target_name` is the model or seed name, or `<source>_<table>` with `prefix` "source_". A name of 64
    characters or more becomes its first 30 characters and an md5 of the whole, as dbt does, unless `full`
    (dbt's unique ids keep the full name).

    >>> spec = TestSpec(test_name="accepted_values", column_name="status", kwargs={"values": ["a", "b"]})
    >>> test_name(spec, "orders")
    'accepted_values_orders_status__a__b'
    """
    if spec.name:
        return spec.name
    if spec.test_type == "expectation":  # gx_<expectation>_<model>[_<column>], the kwargs in the unique id
        name = f"gx_{spec.test_name}_{prefix}{target_name}"
        if spec.column_name:
            name += "_" + _UNSAFE.sub("_", spec.column_name)
        return name if len(name) < MAX_NAME else f"{name[:30]}_{hashlib.md5(name.encode()).hexdigest()}"
    args: dict[str, Any] = dict(_arguments(spec))
    if spec.column_name:
        args["column_name"] = spec.column_name
    flat: list[str] = []
    for _, value in sorted(args.items()):
        flat.extend(_flatten(value))
    identifier = f"{prefix}{spec.test_name}_{target_name}"
    name = f"{identifier}_" + "__".join(_UNSAFE.sub("_", part) for part in flat)
    if len(name) >= MAX_NAME and not full:
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
    """`test.<project>.<name>.<10 hex>` as dbt makes it, so ids match dbt's: `name` is the full (not
    shortened) test name, the hash the last 10 hex of md5(name + repr of the test's metadata), where the
    metadata is {namespace, name, kwargs} with kwargs holding the arguments, column_name and dbt's `model`
    string, every value but dicts and lists as str, dict keys sorted.

    >>> spec = TestSpec(test_name="unique", column_name="customer_id")
    >>> test_unique_id("shop", "unique_customers_customer_id", spec, "model.shop.customers")
    'test.shop.unique_customers_customer_id.c5af1ff4b1'
    """
    namespace, _, macro = spec.test_name.rpartition(".")
    kwargs: dict[str, Any] = dict(_arguments(spec))
    if spec.column_name is not None:
        kwargs["column_name"] = spec.column_name
    kind, _, rest = attached.partition(".")
    parts = rest.split(".")[1:]  # after the package
    target = f"source('{parts[0]}', '{parts[1]}')" if kind == "source" else f"ref('{parts[-1]}')"
    kwargs["model"] = "{{ get_where_subquery(" + target + ") }}"
    metadata = {"namespace": namespace or None, "name": macro, "kwargs": kwargs}
    digest_ = hashlib.md5((name + repr(_hashable(metadata))).encode()).hexdigest()
    return f"test.{project_name}.{name}.{digest_[-10:]}"


def _hashable(data: Any) -> Any:
    """dbt's get_hashable_md: dicts with sorted keys, lists kept, everything else str()."""
    if isinstance(data, Mapping):
        return {k: _hashable(data[k]) for k in sorted(data)}
    if isinstance(data, list | tuple):
        return [_hashable(v) for v in data]
    return str(data)


def unknown_test(spec: TestSpec, macros: Mapping[str, str]) -> ConfigError:
    package, dot, name = spec.test_name.rpartition(".")
    if dot:  # a package's test: of those, only dbt_utils' three are built in
        close = difflib.get_close_matches(name, DBT_UTILS_TESTS, n=1, cutoff=0.6)
        hint = f"did you mean '{package}.{close[0]}'?" if close else None
        hint = hint or (
            f"packages are not installed; sqlflow has dbt_utils' {', '.join(DBT_UTILS_TESTS)} built in, "
            "and {% test " + name + "(model) %} defines your own"
        )
    else:
        known = [*BUILTIN_TESTS, *(m.removeprefix("test_") for m in macros if m.startswith("test_"))]
        hint = did_you_mean(name, known) or "define it with {% test " + name + "(model) %}"
    return ConfigError(
        f"unknown test '{spec.test_name}'", location=SourceLocation(spec.path, spec.line), hint=hint
    )


# -- building the test nodes -------------------------------------------------------------------------


def generic_test_nodes(c: CompileContext, drafts: Iterable[Draft]) -> list[Pending[TestNode]]:
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
    out: list[Pending[TestNode]] = []
    seen: dict[str, TestSpec] = {}
    for attached, target_name, specs in owners:
        for spec in specs:
            if spec.test_type == "generic" and spec.test_name.startswith("dbt_utils."):
                spec = replace(spec, test_name=canonical_test_name(spec.test_name))
            prefix = "source_" if attached.startswith("source.") else ""
            name = test_name(spec, target_name, prefix=prefix)
            uid = test_unique_id(
                p.name, test_name(spec, target_name, prefix=prefix, full=True), spec, attached
            )
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
            if spec.test_type == "expectation":
                out.append(Pending(_expectation_node(uid, name, fqn, spec, config, attached, p.name)))
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


def _expectation_node(
    uid: str, name: str, fqn: tuple[str, ...], spec: TestSpec, config: NodeConfig, attached: str, project: str
) -> TestNode:
    """A Great Expectations check: no SQL; `sqlflow.checks.gx` runs `test_name` with `kwargs` on the
    attached node's relation."""
    kwargs = dict(spec.kwargs)
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return TestNode(
        unique_id=uid,
        name=name,
        package_name=project,
        path=spec.path,
        fqn=fqn,
        test_type="expectation",
        test_name=spec.test_name,
        raw_sql=f"{spec.test_name}({shown})",
        checksum=digest(spec),
        config=config,
        attached_node=attached,
        column_name=spec.column_name,
        kwargs=kwargs,
        line=spec.line,
        description=spec.description,
        depends_on=(attached,),
    )


def _overridden(c: CompileContext, name: str) -> bool:
    """Whether the project defines its own `{% test name %}` for one of the newer built-in tests (a vendored
    copy of a dbt_utils test, say), which then wins; dbt's four built-in tests are always sqlflow's."""
    if name not in OVERRIDABLE_TESTS or not any(name in f.text for f in c.project.macro_files):
        return False
    return "test_" + name in c.renderer.macros


def _compiled_test(
    c: CompileContext, node: TestNode, spec: TestSpec, merged: Mapping[str, Any]
) -> Pending[TestNode]:
    key = digest(c.global_key, c.relations_key, spec, merged, node.attached_node)
    volatile = any(v in repr((spec, merged)) for v in VOLATILE)
    cached = None if volatile else c.cache.get("test", node.unique_id, key)
    if cached is not None:
        compiled_sql, depends_on, cached_refs, cached_sources = cached
        node = replace(
            node, compiled_sql=compiled_sql, depends_on=depends_on, refs=cached_refs, sources=cached_sources
        )
        return Pending(node, key=key)
    sql, _ = c.sql_tools()
    location = SourceLocation(spec.path, spec.line)

    def job(text: str, *, dialect: str = c.dialect, jinja: bool = True, **extra: Any) -> Job:
        return Job(path=spec.path, written=text, dialect=dialect, jinja=jinja, at=location, **extra)

    def relation_sql(found: Resolved) -> str:
        if found.ephemeral:
            return found.ref_text
        return sql.quote_relation(found.relation, c.target_dialect, found.include_database)

    assert node.attached_node is not None
    attached = c.lookup.by_uid[node.attached_node]
    depends = {attached.unique_id}
    calls: list[RenderedText] = []

    def rendered(text: str) -> str:
        """`text` with its Jinja rendered; the models and sources it names become dependencies."""
        result = render(c, job(text))
        calls.append(result)
        depends.update(depends_of(c, result, location))
        return result.text

    where = node.config.where
    if where and has_jinja(where):
        where = rendered(where)
    if spec.test_name in BUILTIN_TESTS and not _overridden(c, spec.test_name):
        test_args = arguments(spec)
        for argument in RENDERED_ARGUMENTS:
            if isinstance(test_args.get(argument), str) and has_jinja(test_args[argument]):
                test_args[argument] = rendered(test_args[argument])
        to_sql = None
        if spec.test_name == "relationships" and arguments(spec).get("to") is not None:
            to = arguments(spec)["to"]
            if not isinstance(to, str):
                raise ConfigError(
                    "'to' of test 'relationships' must be ref('...') or source('...', '...')",
                    location=location,
                )
            result = render(c, job(to if has_jinja(to) else "{{ " + to + " }}"))
            if len(result.refs) + len(result.sources) != 1:
                raise ConfigError(
                    f"'to' of test 'relationships' must name one model or source, not {to!r}",
                    location=location,
                )
            calls.append(result)
            (found_uid,) = depends_of(c, result, location)
            depends.add(found_uid)
            to_sql = relation_sql(c.lookup.by_uid[found_uid])
        text = builtin_sql(
            sql,
            spec,
            test_args,
            relation=relation_sql(attached),
            to_relation=to_sql,
            dialect=c.target_dialect,
            where=where,
            limit=node.config.limit,
        )
        # sqlflow's SQL reads what `depends` holds: parsed only to inline an ephemeral model
        ephemeral = any(c.lookup.by_uid[uid].ephemeral for uid in depends)
        built = job(text, dialect=c.target_dialect, jinja=False)
        query = analyse(c, built, RenderedText(text), parse=ephemeral).query
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
        call = "{{ " + macro + "(**__sqlflow_test_kwargs) }}"
        test_job = job(call, extra={"__sqlflow_test_kwargs": kwargs})
        result = render(c, test_job)
        calls.append(result)
        text = result.text
        if node.config.limit is not None:
            inner = sql.strip_statement_end(text, c.dialect)
            text = f"select * from (\n{inner}\n) as dbt_limited limit {int(node.config.limit)}"
        analysed = analyse(c, test_job, replace(result, text=text))
        query = analysed.query
        depends |= analysed.depends_on
    refs, sources = call_names(calls)
    node = replace(
        node,
        compiled_sql=text,
        depends_on=tuple(sorted(depends)),
        refs=refs,
        sources=sources,
    )
    if query is None and not volatile:
        c.cache.put("test", node.unique_id, key, (text, node.depends_on, node.refs, node.sources))
    return Pending(node, query, key)
