"""The `sensors:` of property YAML as SensorNodes: a sql sensor's query rendered like a model (ref, source,
var; the models and sources it reads become its dependencies) and written in the target dialect; Jinja in a
file sensor's path and an http sensor's url and headers rendered.

A sql sensor is rendered and analysed like a model (nodes/analyse.py) and cached like a generic test; one
that reads an ephemeral model comes with its analysed Query, which assembly writes after the DAG check.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from sqlflow.compile.cache import digest
from sqlflow.compile.context import VOLATILE, CompileContext
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.nodes.analyse import Job, render, render_and_analyse
from sqlflow.compile.nodes.drafts import Pending, folders_of
from sqlflow.errors import SourceLocation, SqlflowError
from sqlflow.manifest import SensorNode
from sqlflow.project.sensors import sensor_location
from sqlflow.project.types import SensorSpec


def sensor_nodes(c: CompileContext) -> list[Pending[SensorNode]]:
    """A SensorNode per declared sensor, in declaration order."""
    p = c.project
    out: list[Pending[SensorNode]] = []
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
            out.append(Pending(replace(node, params=_rendered_params(c, spec))))
    return out


def _rendered_params(c: CompileContext, spec: SensorSpec) -> dict[str, Any]:
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


def _render(c: CompileContext, spec: SensorSpec, param: str, text: str) -> str:
    location = sensor_location(spec, param)
    try:
        return render(c, Job(path=spec.path, written=text, dialect=c.dialect)).text.strip()
    except SqlflowError as exc:
        raise _at(exc, location, f"in '{param}' of sensor '{spec.name}'") from exc


def _sql_sensor(c: CompileContext, node: SensorNode, spec: SensorSpec) -> Pending[SensorNode]:
    text = str(spec.params["sql"])
    key = digest(c.global_key, c.relations_key, spec, c.target_dialect)
    volatile = any(v in text for v in VOLATILE)
    cached = None if volatile else c.cache.get("sensor", node.unique_id, key)
    if cached is not None and all(os.environ.get(k) == v for k, v in cached[2]):
        compiled, depends_on, _ = cached
        return Pending(replace(node, params={"sql": compiled}, depends_on=depends_on))
    _, querying = c.sql_tools()
    location = sensor_location(spec, "sql")
    try:
        analysed = render_and_analyse(c, Job(path=spec.path, written=text, dialect=c.dialect, at=location))
    except SqlflowError as exc:
        raise _at(exc, location, f"in the sql of sensor '{spec.name}'") from exc
    env_reads = analysed.rendered.env_reads
    node = replace(node, depends_on=tuple(sorted(analysed.depends_on)))
    assert analysed.query is not None
    compiled = querying.text_only(analysed.query, c.target_dialect)
    if compiled is None:  # an ephemeral model to inline, or another dialect: written after the DAG check
        return Pending(node, analysed.query, key, env_reads)
    if not volatile:
        c.cache.put("sensor", node.unique_id, key, (compiled, node.depends_on, env_reads))
    return Pending(replace(node, params={"sql": compiled}))


def _at(exc: SqlflowError, location: SourceLocation, where: str) -> SqlflowError:
    """`exc` located at the sensor's parameter, the line inside the parameter's text kept in the hint."""
    if exc.location == location:  # already there (an unknown ref)
        return exc
    inner = exc.location.line if exc.location is not None else None
    hint = f"line {inner} {where}" if inner is not None else where
    if exc.hint:
        hint = f"{exc.hint}; {hint}"
    return type(exc)(exc.message, location=location, hint=hint)
