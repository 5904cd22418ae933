"""The docs site of the template project in a real browser: Playwright driving the system's chromium,
headless, over HTTP from `sqlflow docs serve` on 127.0.0.1 and from file://. No console error, no request
leaves the machine, the graph shows every model, and clicking a model then a column shows its lineage.

Skipped when chromium or playwright is missing, unless SQLFLOW_REQUIRE_BROWSER=1 (CI sets it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs.conftest import sqlflow_env
from tests.docs.test_site import index_of, rows

CHROMIUM = os.environ.get("SQLFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = _missing()
    if why:
        if os.environ.get("SQLFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SQLFLOW_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(built_shop: Path) -> Iterator[str]:
    """`sqlflow docs serve` of the built template, a real HTTP server on 127.0.0.1 (a free port)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqlflow", "docs", "serve", "--port", "0", "--no-generate"],
        cwd=built_shop,
        env=sqlflow_env(built_shop.parent),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = None
    for _ in range(20):
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", proc.stdout.readline())
        if match:
            url = match.group(1)
            break
    if url is None:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError("docs serve did not start: " + err)
    try:
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # waits, and closes both pipes


class Page:
    """A browser page that records console errors, page errors, failed requests and any request that is
    neither to 127.0.0.1 nor a file:// URL (those are aborted)."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file://", "http://127.0.0.1:", "data:")):
            route.continue_()
        else:
            self.remote.append(url)
            route.abort()

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.wait_for_function("window.sqlflowReady === true", timeout=20_000)
        return self.page

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.remote == [], self.remote


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    p = Page(browser)
    yield p
    p.page.close()


def graph_ids(page: Any) -> set[str]:
    return set(page.evaluate("window.sqlflow.graphNodeIds()"))


def graph_nodes(built_shop: Path) -> set[str]:
    return {uid for uid, n in rows(index_of(built_shop / "target" / "docs")).items() if n["type"] != "test"}


@pytest.mark.parametrize("how", ["http", "file"])
def test_opens_without_errors_and_shows_every_model(
    page: Page, served: str, built_shop: Path, how: str
) -> None:
    url = served if how == "http" else (built_shop / "target" / "docs" / "index.html").as_uri()
    p = page.open(url)
    expected = graph_nodes(built_shop)
    assert {u for u in expected if u.startswith("model.")} >= {"model.shop.orders", "model.shop.customers"}
    assert graph_ids(p) == expected  # a small project: the whole graph on load
    assert p.locator("#node-list li").count() == len(rows(index_of(built_shop / "target" / "docs")))
    assert "9 models" in p.inner_text("#detail")
    page.check()


def test_click_a_model_then_a_column(page: Page, served: str) -> None:
    p = page.open(served)
    p.click("#node-list a[data-id='model.shop.customers']")
    p.wait_for_selector("#detail[data-node='model.shop.customers'] table.columns")
    assert p.inner_text("#detail h1").startswith("customers")
    assert "One row per customer" in p.inner_text("#detail")
    assert "DOUBLE" in p.inner_text("table.columns")  # types from the catalog
    assert p.locator("pre code.hljs .hljs-keyword").count() > 0  # highlighted SQL
    assert "success" in p.inner_text("table.runs")
    # the graph is now the neighbourhood of customers (2 hops each way)
    around = graph_ids(p)
    assert "model.shop.customers" in around and "model.shop.orders" in around
    assert "model.shop.daily_visits" not in around

    p.click("table.columns tr[data-column='lifetime_value']")
    p.wait_for_selector("#column-panel[data-ready=true]")
    assert p.url.endswith("#/node/model.shop.customers/lifetime_value")
    upstream = p.eval_on_selector_all("#lineage-up li", "els => els.map(e => e.dataset.ref)")
    assert upstream == [
        "model.shop.orders.amount",
        "model.shop.order_payments.total_amount",
        "model.shop.stg_payments.amount",
        "seed.shop.raw_payments.amount_cents",
    ]
    assert "none" in p.inner_text("#lineage-down")
    # the graph shows the columns of the lineage
    assert graph_ids(p) == {
        "model.shop.customers",
        "model.shop.orders",
        "model.shop.order_payments",
        "model.shop.stg_payments",
        "seed.shop.raw_payments",
    }
    assert p.inner_text("#graph-title") == "Lineage of customers.lifetime_value"

    # follow a link of the lineage to the upstream model, and its column's downstream impact
    p.click("#lineage-up a:text('orders.amount')")
    p.wait_for_selector("#column-panel[data-ready=true]")
    downstream = p.eval_on_selector_all("#lineage-down li", "els => els.map(e => e.dataset.ref)")
    assert downstream == ["model.shop.customers.lifetime_value", "model.shop.daily_revenue.revenue"]
    page.check()


def test_graph_controls(page: Page, served: str, built_shop: Path) -> None:
    p = page.open(served + "#/node/model.shop.orders")
    p.wait_for_selector("#detail[data-node='model.shop.orders']")
    assert graph_ids(p) == {
        "model.shop.orders",
        "model.shop.stg_orders",
        "seed.shop.raw_orders",
        "model.shop.order_payments",
        "model.shop.stg_payments",
        "model.shop.customers",
        "model.shop.daily_revenue",
    }
    p.fill("#hops-up", "1")
    p.fill("#hops-down", "0")
    p.dispatch_event("#hops-down", "change")
    assert graph_ids(p) == {"model.shop.orders", "model.shop.stg_orders", "model.shop.order_payments"}
    p.fill("#hops-up", "2")
    p.fill("#hops-down", "2")
    p.dispatch_event("#hops-down", "change")
    # a highlighted path: orders -> customers (direct) and from raw_payments (through two models)
    p.fill("#path-to", "raw_payments")
    p.dispatch_event("#path-to", "change")
    assert set(p.evaluate("window.sqlflow.pathNodeIds()")) == {
        "seed.shop.raw_payments",
        "model.shop.stg_payments",
        "model.shop.order_payments",
        "model.shop.orders",
    }
    assert "path raw_payments → orders: 4 nodes" in p.inner_text("#graph-info")
    # colour by status: every built node is green in the legend
    p.select_option("#color-by", "status")
    assert "success" in p.inner_text("#legend")
    p.click("#show-all")
    assert graph_ids(p) == graph_nodes(built_shop)
    page.check()


def test_search(page: Page, served: str) -> None:
    p = page.open(served)
    p.fill("#search", "stg_ pay")
    p.wait_for_function("document.querySelectorAll('#node-list li').length < 10")
    names = p.eval_on_selector_all("#node-list a", "els => els.map(e => e.dataset.id)")
    assert names[0] == "model.shop.stg_payments"
    assert all("stg" in n and "pay" in n for n in names)
    p.uncheck("#type-filters input[data-type=test]")
    assert p.eval_on_selector_all("#node-list a", "els => els.map(e => e.dataset.id)") == [
        "model.shop.stg_payments"
    ]
    page.check()


def test_every_node_page_renders(page: Page, served: str, built_shop: Path) -> None:
    p = page.open(served)
    for uid in rows(index_of(built_shop / "target" / "docs")):
        p.evaluate("uid => { location.hash = '#/node/' + encodeURIComponent(uid); }", uid)
        p.wait_for_selector(f"#detail[data-node='{uid}']")
        assert "Last runs" in p.inner_text("#detail"), uid
    page.check()
