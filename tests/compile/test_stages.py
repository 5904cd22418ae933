"""The compile stages, called one by one on the example project: each returns new frozen records and
leaves its input as it was; the context is frozen, and the pass-2 context is a replaced copy."""

from __future__ import annotations

import dataclasses

import pytest

from sqlflow.compile import CompileContext, compile_project
from sqlflow.compile.compiler import settled_context
from sqlflow.compile.context import new_context
from sqlflow.compile.nodes.analyse import Job, render_and_analyse
from sqlflow.compile.nodes.drafts import read_drafts, source_nodes
from sqlflow.compile.nodes.models import analyse_draft, render_pass1
from sqlflow.compile.nodes.settling import make_lookup, settle
from sqlflow.errors import SourceLocation, UnknownRefError
from sqlflow.project import load_project

from .conftest import SHOP


def test_each_stage_returns_new_drafts(write) -> None:
    project = load_project(write(SHOP))
    c = new_context(project, target_dialect="duckdb")
    discovered = read_drafts(project)
    rendered = [render_pass1(c, d) if d.kind != "seed" else d for d in discovered]
    assert all(d.rendered is None for d in discovered)
    orders = next(d for d in rendered if d.name == "orders")
    assert orders.rendered is not None and orders.rendered.sql is None  # it used ref(): rendered again

    settled, disabled = settle(c, rendered)
    assert disabled == {} and all(d.config is None for d in rendered)
    assert next(d for d in settled if d.name == "orders").relation.identifier == "fct_orders"

    c2 = settled_context(c, settled, make_lookup(c, settled, source_nodes(project), disabled))
    assert c.lookup.by_uid == {} and c2.lookup.by_uid and c2.tools is c.tools
    analysed = {d.name: analyse_draft(c2, d) for d in settled if d.kind != "seed"}
    assert analysed["orders"].compiled.depends_on == ("model.shop.stg_customers", "model.shop.stg_orders")
    assert all(d.compiled is None for d in settled)


def test_records_and_context_are_frozen(write) -> None:
    project = load_project(write(SHOP))
    c = new_context(project, target_dialect="duckdb")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.target_dialect = "postgres"  # type: ignore[misc]
    draft = read_drafts(project)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft.late = True  # type: ignore[misc]
    assert isinstance(c, CompileContext)


def test_render_and_analyse_gives_the_dependencies(write) -> None:
    project = load_project(write(SHOP))
    c = new_context(project, target_dialect="duckdb")
    settled, disabled = settle(c, [render_pass1(c, d) for d in read_drafts(project) if d.kind != "seed"])
    c = settled_context(c, settled, make_lookup(c, settled, source_nodes(project), disabled))
    text = "select * from {{ ref('stg_orders') }} join stg_customers using (customer_id)"
    analysed = render_and_analyse(c, Job(path="models/x.yml", written=text, dialect=c.dialect))
    assert analysed.depends_on == {"model.shop.stg_orders", "model.shop.stg_customers"}
    assert analysed.rendered.refs[0][0] == ("stg_orders",)
    where = SourceLocation("models/x.yml", 7)
    with pytest.raises(UnknownRefError, match=r"^models/x\.yml:7: unknown ref 'nope'"):
        render_and_analyse(
            c, Job(path="models/x.yml", written="{{ ref('nope') }}", dialect=c.dialect, at=where)
        )


def test_late_compile_is_bound_to_the_last_context(write) -> None:
    from sqlflow.compile import LateCompile

    late = LateCompile()
    manifest = compile_project(load_project(write(SHOP)), target_dialect="duckdb", late=late)
    node = manifest.nodes["model.shop.orders"]
    assert late(node) is node  # not late: as compiled
