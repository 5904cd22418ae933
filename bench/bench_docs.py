"""Time `sqlflow docs generate` on a generated project and the docs' index page load in headless chromium.

    python bench/bench_docs.py [--models 10000] [--keep DIR] [--build] [--loads 3] [--chromium PATH]

Steps (each sqlflow command a subprocess run from the project folder, on the embedded DuckDB default):
  compile           `sqlflow compile` with no target/ (for reference: the cold compile docs start from)
  generate          `sqlflow docs generate`: warm compile, column lineage of every model from scratch (no
                    lineage cache, default --lineage-budget), the site written
  generate (again)  the same on the unchanged project: the lineage cache answers
  generate (cold)   `sqlflow docs generate` with no target/ at all (cold compile included)
Then the index page is opened `--loads` times from file:// and over HTTP (`sqlflow docs serve`) in headless
chromium (Playwright, the system's chromium), timed from navigation to `window.sqlflowReady` (the index
parsed, the list and the overview drawn); also a model's page and a column's lineage. Targets: generate
< 30 s, index page < 2 s. See bench/README.md. Imports nothing from sqlflow.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GENERATE_TARGET_S = 30.0
PAGE_TARGET_S = 2.0


def sqlflow_command() -> list[str]:
    beside = Path(sys.executable).with_name("sqlflow")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sqlflow")
    return [found] if found else [sys.executable, "-m", "sqlflow"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout + done.stderr


def page_loads(url: str, loads: int, chromium: str, model: str) -> dict[str, float]:
    """Median seconds to the index being ready, to a model's page, and to one column's lineage."""
    from playwright.sync_api import sync_playwright

    ready, node, column = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        for _ in range(loads):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_function("window.sqlflowReady === true", timeout=60_000)
            ready.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.evaluate(f"location.hash = '#/node/{model}'")
            page.wait_for_selector(f"#detail[data-node='{model}'] table.columns", timeout=60_000)
            node.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.click("table.columns tbody tr:nth-child(3)")
            page.wait_for_selector("#column-panel[data-ready=true]", timeout=60_000)
            column.append(time.perf_counter() - start)
            if errors:
                raise SystemExit(f"console errors on {url}: {errors}")
            page.close()
        browser.close()
    return {
        "index": statistics.median(ready),
        "node": statistics.median(node),
        "column": statistics.median(column),
    }


def serve(cmd: list[str], project: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*cmd, "docs", "serve", "--no-generate", "--port", "0"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(20):
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", proc.stdout.readline())
        if match:
            return proc, match.group(1)
    proc.kill()
    raise SystemExit("sqlflow docs serve did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="generate into DIR/docs_<N>/ and keep it")
    parser.add_argument(
        "--build", action="store_true", help="`sqlflow build` first: types and runs in the docs"
    )
    parser.add_argument("--loads", type=int, default=3, help="page loads per way of opening (median)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    root = args.keep or Path(tempfile.mkdtemp(prefix="sqlflow-bench-docs-"))
    project = root / f"docs_{args.models}"
    if project.exists():
        shutil.rmtree(project)
    print(f"generating {args.models} models into {project}", flush=True)
    generate(project, models=args.models, seed=args.seed)
    env = {**os.environ, "NO_COLOR": "1"}
    profiles = root / "no_profiles"
    profiles.mkdir(exist_ok=True)
    env["SQLFLOW_PROFILES_DIR"] = str(profiles)  # the embedded DuckDB default, whatever ~/.sqlflow holds
    cmd = sqlflow_command()
    rows: list[tuple[str, float, float | None]] = []
    try:
        seconds, _ = timed([*cmd, "compile"], project, env)
        rows.append(("compile (cold, for reference)", seconds, None))
        if args.build:
            seconds, _ = timed([*cmd, "build"], project, env)
            rows.append(("build (for reference)", seconds, None))
        for name, target, fresh in (
            ("docs generate", GENERATE_TARGET_S, False),
            ("docs generate (again, lineage cached)", None, False),
            ("docs generate (no target/: cold compile too)", None, True),
        ):
            if fresh:
                shutil.rmtree(project / "target")
            seconds, out = timed([*cmd, "docs", "generate"], project, env)
            skipped = re.search(r"lineage of (\d+) models was not traced", out)
            rows.append(
                (name + (f" [{skipped.group(1)} models over the budget]" if skipped else ""), seconds, target)
            )
        site = project / "target" / "docs"
        size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
        index_kb = (site / "data" / "index.js").stat().st_size / 1024
        scripts = sum(1 for _ in site.rglob("*.js"))
        print(f"site: {size / 1e6:.1f} MB in {scripts} scripts, index {index_kb:.0f} KB")
        pages: dict[str, dict[str, float]] = {}
        if Path(args.chromium).exists():
            model = f"model.bench.{sorted(p.stem for p in (project / 'models').rglob('*.sql'))[-1]}"
            pages["file://"] = page_loads((site / "index.html").as_uri(), args.loads, args.chromium, model)
            proc, url = serve(cmd, project, env)
            try:
                pages["http"] = page_loads(url, args.loads, args.chromium, model)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        else:
            print(f"no chromium at {args.chromium}: page loads not measured")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    print(f"\n{args.models} models, {os.cpu_count()} cores")
    print(f"{'step':<48} {'seconds':>8}  target")
    failed = False
    for name, seconds, target in rows:
        verdict = "" if target is None else ("PASS" if seconds < target else "FAIL") + f" (< {target:g} s)"
        failed |= verdict.startswith("FAIL")
        print(f"{name:<48} {seconds:>8.2f}  {verdict}")
    for how, figures in pages.items():
        ok = figures["index"] < PAGE_TARGET_S
        failed |= not ok
        verdict = f"{'PASS' if ok else 'FAIL'} (< {PAGE_TARGET_S:g} s)"
        print(f"{'index page, ' + how:<48} {figures['index']:>8.2f}  {verdict}")
        print(f"{'  then a model page':<48} {figures['node']:>8.2f}")
        print(f"{'  then a column lineage':<48} {figures['column']:>8.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
