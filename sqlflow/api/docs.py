"""The docs site and column lineage."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlflow.api.core import Options, compile_all, connect, state_schema
from sqlflow.engines import engine
from sqlflow.errors import SqlflowError
from sqlflow.manifest import Manifest
from sqlflow.project.types import Project

if TYPE_CHECKING:
    from sqlflow.docs.build import ColumnLineage
    from sqlflow.docs.facts import Facts
    from sqlflow.docs.site import SiteSummary


def docs_generate(
    options: Options, *, out: Path | None = None, lineage_budget: float | None = 20.0
) -> SiteSummary:
    """Compile, read the catalog and the state store when the database exists, and write the docs site to
    `out` (default target/docs/); column lineage stops after `lineage_budget` seconds (None: no limit),
    and the next generation goes on from its cache. See sqlflow/docs/."""
    import time

    from sqlflow.docs.build import CACHE_FILE, build_docs

    compiled = compile_all(options)
    project = compiled.project
    return build_docs(
        compiled.manifest,
        compiled.dag,
        root=project.root,
        facts=docs_facts(project, compiled.manifest),
        out=out or project.target_dir / "docs",
        cache_path=project.target_dir / CACHE_FILE,
        generated_at=datetime.now(UTC),
        clock=time.monotonic,
        budget=lineage_budget,
    )


def column_lineage(
    options: Options, column: str, *, downstream: bool = False, depth: int | None = None
) -> ColumnLineage:
    """`sqlflow lineage orders.amount`: the columns it derives from (`downstream`: those derived from it)."""
    from sqlflow.docs.build import known_columns, trace_column

    compiled = compile_all(options)
    project = compiled.project
    facts = docs_facts(project, compiled.manifest, runs=False)
    known = known_columns(compiled.manifest, facts, project.root)
    return trace_column(compiled.manifest, known, column, downstream=downstream, depth=depth)


def docs_facts(project: Project, manifest: Manifest, *, runs: bool = True) -> Facts:
    """The catalog and recent runs, read-only; none (with a note) when the database was never built."""
    from sqlflow.docs.facts import Facts, read_facts

    target = project.target
    if engine(target.type).database_is_file:  # a file never built: nothing to read, and no file made
        path = str(target.settings.get("path") or ":memory:")
        if path.startswith(":memory:") or ("://" not in path and not Path(path).exists()):
            note = "the database has not been built yet (run `sqlflow build`)"
            return Facts(catalog_note=note, state_note=note)
        target = dataclasses.replace(target, settings={**target.settings, "read_only": True})
    try:
        adapter = connect(dataclasses.replace(project, target=target))
    except SqlflowError as exc:
        return Facts(catalog_note=f"the database could not be opened: {exc}", state_note="not read")
    try:
        return read_facts(adapter, manifest, state_schema=state_schema(project) if runs else None)
    finally:
        adapter.close()
