"""The generated site of the template project: its files, the node index, the per-node details (catalog types,
tests, last runs, column lineage), the vendored libraries with their licences, and nothing fetched from the
network at view time."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sqlflow import api
from sqlflow.docs.site import CHUNK, STATIC
from tests.docs.conftest import copy_template


def index_of(site: Path) -> dict[str, Any]:
    text = (site / "data" / "index.js").read_text()
    assert text.startswith("sqlflow.index(") and text.rstrip().endswith(");")
    return json.loads(text.strip()[len("sqlflow.index(") : -2])


def details_of(site: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in (site / "nodes").glob("*.js"):
        text = path.read_text().strip()
        assert text.startswith("sqlflow.register(") and text.endswith(");")
        for doc in json.loads(text[len("sqlflow.register(") : -2]):
            out[doc["id"]] = doc
    return out


def generic_test_id(ids: Any, name: str) -> str:
    """The unique id of the generic test `name` (its id ends in a hash of its arguments)."""
    (uid,) = [u for u in ids if u.startswith(f"test.shop.{name}.")]
    return uid


def rows(index: dict[str, Any]) -> dict[str, dict[str, Any]]:
    fields = index["fields"]
    return {row[0]: dict(zip(fields, row, strict=True)) for row in index["nodes"]}


def test_files_and_index(built_shop: Path) -> None:
    site = built_shop / "target" / "docs"
    assert (site / "index.html").exists()
    index = index_of(site)
    nodes = rows(index)
    assert index["project"] == "shop" and index["chunk"] == CHUNK
    assert index["catalog_note"] is None and index["state_note"] is None
    types = {n["type"] for n in nodes.values()}
    assert types == {"model", "seed", "snapshot", "source", "sensor", "test"}
    orders = nodes["model.shop.orders"]
    assert orders["materialized"] == "table" and orders["status"] == "success"
    ids = list(nodes)
    assert {ids[p] for p in orders["parents"]} == {"model.shop.order_payments", "model.shop.stg_orders"}
    test = nodes[generic_test_id(nodes, "unique_orders_order_id")]
    assert ids[test["attached"]] == "model.shop.orders" and test["status"] == "pass"
    # every node's detail is in the chunk its position says
    details = details_of(site)
    assert set(details) == set(nodes)
    for i, uid in enumerate(ids):
        chunk = (site / "nodes" / f"{i // CHUNK}.js").read_text()
        assert f'"id":"{uid}"' in chunk


def test_model_detail(built_shop: Path) -> None:
    d = details_of(built_shop / "target" / "docs")["model.shop.orders"]
    assert d["description"].startswith("One row per order")
    assert "ref('order_payments')" in d["raw_sql"] and '"main"."stg_orders"' in d["compiled_sql"]
    columns = {c["name"]: c for c in d["columns"]}
    assert columns["amount"]["type"] == "DOUBLE"  # from the engine's catalog
    assert columns["amount"]["description"] == "Total paid for the order, in dollars."
    assert columns["amount"]["up"] == [["model.shop.order_payments", "total_amount"]]
    assert sorted(columns["amount"]["down"]) == [
        ["model.shop.customers", "lifetime_value"],
        ["model.shop.daily_revenue", "revenue"],
    ]
    assert columns["amount"]["tests"] == [
        generic_test_id(columns["amount"]["tests"], "not_null_orders_amount")
    ]
    assert {t["status"] for t in d["tests"]} == {"pass"}
    assert d["parents"] == ["model.shop.order_payments", "model.shop.stg_orders"]
    assert "model.shop.customers" in d["children"]
    run = d["runs"][0]
    assert run["status"] == "success" and run["rows"] == 50 and run["duration"] >= 0
    assert d["materialized"] == "table" and d["lineage_error"] is None


def test_other_kinds(built_shop: Path) -> None:
    details = details_of(built_shop / "target" / "docs")
    source = details["source.shop.shop.raw_orders"]
    assert source["type"] == "source" and source["relation"]
    sensor = details["sensor.shop.landing_files"]
    assert sensor["kind"] == "file" and "landing" in json.dumps(sensor["params"])
    seed = details["seed.shop.raw_payments"]
    assert [c["name"] for c in seed["columns"]][:2] == ["id", "order_id"]
    assert {c["name"]: c["type"] for c in seed["columns"]}["amount_cents"] == "INTEGER"
    snapshot = details["snapshot.shop.customers_snapshot"]
    assert "dbt_valid_to" in [c["name"] for c in snapshot["columns"]]
    test = details[generic_test_id(details, "not_null_orders_amount")]
    assert test["attached"] == "model.shop.orders" and test["column"] == "amount" and test["compiled_sql"]


def test_unbuilt_project_is_documented_without_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_template(tmp_path / "shop")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    summary = api.docs_generate(api.Options(project_dir=project))
    index = index_of(summary.out)
    assert "not been built" in index["catalog_note"] and "not been built" in index["state_note"]
    assert not (project / "shop.duckdb").exists()  # generating docs never creates the database
    d = details_of(summary.out)["model.shop.customers"]
    assert all(c["type"] is None for c in d["columns"]) and d["runs"] == []
    lifetime = {c["name"]: c for c in d["columns"]}["lifetime_value"]
    assert lifetime["up"] == [["model.shop.orders", "amount"]]
    # the seeds' columns come from their CSV headers, so their lineage still reaches them
    assert {c["name"] for c in details_of(summary.out)["seed.shop.raw_payments"]["columns"]} >= {
        "amount_cents"
    }


def test_regeneration_replaces_the_site_and_reuses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_template(tmp_path / "shop")
    monkeypatch.setenv("HOME", str(tmp_path))
    options = api.Options(project_dir=project)
    first = api.docs_generate(options)
    (first.out / "stale.txt").write_text("left over")
    cache = project / "target" / "docs_lineage_cache.pickle"
    assert cache.exists()
    before = cache.stat().st_mtime_ns
    second = api.docs_generate(options)
    assert not (second.out / "stale.txt").exists()
    assert cache.stat().st_mtime_ns == before  # every model answered from the cache: nothing rewritten
    assert [p.name for p in second.out.parent.iterdir() if p.name.startswith(".docs")] == []


def test_a_budget_of_nothing_skips_lineage_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_template(tmp_path / "shop")
    monkeypatch.setenv("HOME", str(tmp_path))
    summary = api.docs_generate(api.Options(project_dir=project), lineage_budget=0.0)
    assert summary.lineage_skipped > 0
    d = details_of(summary.out)["model.shop.customers"]
    assert "time budget" in d["lineage_error"]
    assert {c["name"] for c in d["columns"]} >= {"customer_id", "lifetime_value"}


def test_no_network_at_view_time() -> None:
    """Every script and style sheet is local; no file of the site names a remote URL to load."""
    page = (STATIC.parent / "templates" / "index.html").read_text()
    for ref in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not re.match(r"^(https?:)?//", ref), ref
    for path in [STATIC / "app.js", STATIC / "site.css", *(STATIC / "vendor").glob("*.css")]:
        text = path.read_text()
        assert not re.search(r"""(?:import|url\(|src=|href=)\s*['"]?(?:https?:)?//""", text), path


def test_vendored_libraries_have_their_licences() -> None:
    vendor = STATIC / "vendor"
    versions = json.loads((vendor / "VERSIONS.json").read_text())
    assert set(versions) >= {"cytoscape", "cytoscape-dagre", "@dagrejs/dagre", "@highlightjs/cdn-assets"}
    for name, meta in versions.items():
        licence = vendor / "licenses" / (name.replace("@", "").replace("/", "-") + ".LICENSE")
        assert licence.exists(), name
        assert meta["license"] in ("MIT", "BSD-3-Clause")
    for lib in ("cytoscape.min.js", "cytoscape-dagre.min.js", "highlight.min.js"):
        assert (vendor / lib).stat().st_size > 10_000


def test_worker_processes_trace_the_same_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big project is traced in worker processes (here: forced for the template); same answers."""
    from sqlflow.docs import build

    project = copy_template(tmp_path / "shop")
    monkeypatch.setenv("HOME", str(tmp_path))
    options = api.Options(project_dir=project)
    one = details_of(api.docs_generate(options, out=tmp_path / "one").out)
    (project / "target" / build.CACHE_FILE).unlink()
    monkeypatch.setattr(build, "PARALLEL_MIN", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    traced_by_workers: list[int] = []
    parallel = build._trace_in_parallel

    def spy(lineage: Any, order: Any, stop: Any) -> None:
        parallel(lineage, order, stop)
        traced_by_workers.append(len(lineage.store.used))  # in the cache before the sequential pass

    monkeypatch.setattr(build, "_trace_in_parallel", spy)
    many = details_of(api.docs_generate(options, out=tmp_path / "many").out)
    assert traced_by_workers[0] >= 9  # every model with SQL
    for uid, doc in one.items():
        assert doc.get("columns") == many[uid].get("columns"), uid
