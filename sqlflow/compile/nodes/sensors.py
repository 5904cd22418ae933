"""The `sensors:` of property YAML as SensorNodes: a sql sensor's query rendered like a model (ref, source,
var; the models and sources it reads become its dependencies) and written in the target dialect; Jinja in a
file sensor's path and an http sensor's url and headers rendered.

A sql sensor is cached like a generic test; one that reads an ephemeral model comes with its analysed
Query, which the compiler writes after the DAG check. Called by the compiler with its state.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlflow.compile.cache import digest
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.nodes.drafts import folders_of
from sqlflow.errors import SourceLocation, SqlflowError
from sqlflow.manifest import Relation, SensorNode
from sqlflow.project.sensors import sensor_location
from sqlflow.project.types import SensorSpec

if TYPE_CHECKING:
    from sqlflow.compile.compiler import _Compile
    from sqlflow.compile.sql.querying import Query


def sensor_nodes(c: _Compile) -> list[tuple[SensorNode, Query | None]]:
    """A SensorNode per declared sensor, in declaration order."""
    p = c.project
    out: list[tuple[SensorNode, Query | None]] = []
    for spec in p.sensors:
        poke = spec.poke
        node = SensorNode(
            unique_id=f"sensor.{p.name}.{spec.name}",
            name=spec.name,
            package_name=p.name,
            path=spec.path,
            line=spec.line,
            fqn=(p.name, *folders_of(spec.path, (*p.model_paths, *p.seed_paths)), spec.name),
            kind=spec.kind,
            params=dict(spec.params),
            poke_interval=poke["poke_interval"],
            timeout=poke["timeout"],
            on_timeout=poke["on_timeout"],
            backoff=poke["backoff"],
            max_poke_interval=poke["max_poke_interval"],
            description=spec.description,
            tags=spec.tags,
            meta=spec.meta,
        )
        if spec.kind == "sql":
            out.append(_sql_sensor(c, node, spec))
        else:
            out.append((replace(node, params=_rendered_params(c, spec)), None))
    return out


def _rendered_params(c: _Compile, spec: SensorSpec) -> dict[str, Any]:
    """The params of a file or http sensor with the Jinja in their texts (`{{ var('landing') }}`) rendered."""
    params = dict(spec.params)
    for key in ("path", "url"):
        if isinstance(params.get(key), str) and has_jinja(params[key]):
            params[key] = _render(c, spec, key, params[key])
    headers = params.get("headers")
    if headers and any(has_jinja(v) for v in headers.values()):
        params["headers"] = {
            k: _render(c, spec, "headers", v) if has_jinja(v) else v for k, v in headers.items()
        }
    return params


def _render(c: _Compile, spec: SensorSpec, param: str, text: str) -> str:
    location = sensor_location(spec, param)
    try:
        return c.renderer.render(spec.path, text=text, resolve=c.resolve).sql.strip()
    except SqlflowError as exc:
        raise _at(exc, location, f"in '{param}' of sensor '{spec.name}'") from exc


def _sql_sensor(c: _Compile, node: SensorNode, spec: SensorSpec) -> tuple[SensorNode, Query | None]:
    text = str(spec.params["sql"])
    key = digest(c.global_key, c.relations_key, spec, c.target_dialect)
    volatile = any(v in text for v in ("run_started_at", "invocation_id"))
    cached = None if volatile else c.cache.get("sensor", node.unique_id, key)
    if cached is not None and all(os.environ.get(k) == v for k, v in cached[2]):
        compiled, depends_on, _ = cached
        return replace(node, params={"sql": compiled}, depends_on=depends_on), None
    _, querying = c.sql_tools()
    location = sensor_location(spec, "sql")

    def at_sql(kind: str, args: tuple[str, ...], _: SourceLocation) -> tuple[Relation, str]:
        return c.resolve(kind, args, location)

    try:
        env_reads: tuple[tuple[str, str | None], ...] = ()
        rendered = text
        depends: set[str] = set()
        if has_jinja(text):
            result = c.renderer.render(spec.path, text=text, resolve=at_sql)
            rendered, env_reads = result.sql, tuple(sorted(result.env_reads.items()))
            depends |= {c.lookup.ref(call.args, location).unique_id for call in result.refs}
            depends |= {c.lookup.source(call.args, location).unique_id for call in result.sources}
        query = querying.analyse(
            rendered,
            dialect=c.dialect,
            lookup=c.lookup,
            self_uid=None,
            path=spec.path,
            raw_text=rendered,
            templated=False,
        )
    except SqlflowError as exc:
        raise _at(exc, location, f"in the sql of sensor '{spec.name}'") from exc
    depends |= query.depends_on
    node = replace(node, depends_on=tuple(sorted(depends)))
    compiled = querying.text_only(query, c.target_dialect)
    if compiled is None:  # an ephemeral model to inline, or another dialect: written after the DAG check
        c.sensor_keys[node.unique_id] = (key, env_reads)
        return node, query
    if not volatile:
        c.cache.put("sensor", node.unique_id, key, (compiled, node.depends_on, env_reads))
    return replace(node, params={"sql": compiled}), None


def _at(exc: SqlflowError, location: SourceLocation, where: str) -> SqlflowError:
    """`exc` located at the sensor's parameter, the line inside the parameter's text kept in the hint."""
    if exc.location == location:  # already there (an unknown ref)
        return exc
    inner = exc.location.line if exc.location is not None else None
    hint = f"line {inner} {where}" if inner is not None else where
    if exc.hint:
        hint = f"{exc.hint}; {hint}"
    return type(exc)(exc.message, location=location, hint=hint)
