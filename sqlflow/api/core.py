"""Load, compile, select and connect: the steps every command shares, the state store, and the artifacts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sqlflow.artifacts import manifest_document
from sqlflow.compile import compile_project
from sqlflow.compile.compiler import LateCompile
from sqlflow.compile.lint import LintWarning, lint
from sqlflow.engines import ENGINES, engine
from sqlflow.errors import ConfigError
from sqlflow.graph import Dag, IndirectSelection, build_dag, select_nodes, unmatched_terms
from sqlflow.manifest import Manifest, SensorNode
from sqlflow.project import load_project, project_root
from sqlflow.project.types import Project
from sqlflow.runner.plan import (
    Plan,
    describe_plan,
)

if TYPE_CHECKING:
    from sqlflow.adapters import Adapter
    from sqlflow.runner.results import RunResult
    from sqlflow.state.store import StateStore

ENGINE_DIALECTS: Mapping[str, str] = {name: spec.dialect for name, spec in ENGINES.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """What every command shares: where the project is, which target, which vars."""

    project_dir: Path | None = None
    profiles_dir: Path | None = None
    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Compiled:
    project: Project
    manifest: Manifest
    dag: Dag
    warnings: tuple[LintWarning, ...] = ()  # from compile.lint, for the CLI to print


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    compiled: Compiled
    plan: Plan
    result: RunResult | None  # None for --dry-run
    unmatched: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()  # warnings from after the run: an alert not sent, metrics not written

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.failed


def parse_vars(text: str | None) -> dict[str, Any]:
    """`--vars '{key: value}'` (YAML or JSON) -> a dict; a ConfigError explains a bad value.

    >>> parse_vars("{days: 3, region: eu}")
    {'days': 3, 'region': 'eu'}
    >>> parse_vars(None)
    {}
    """
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"--vars is not valid YAML: {text!r}", hint="write it as '{key: value, other: 2}'"
        ) from exc
    if not isinstance(value, dict):
        raise ConfigError(f"--vars must be a mapping, got {text!r}", hint="write it as '{key: value}'")
    return value


def load(options: Options) -> Project:
    root = project_root(options.project_dir, Path.cwd())
    return load_project(root, target=options.target, profiles_dir=options.profiles_dir)


def compile_all(
    options: Options,
    *,
    invocation_id: str | None = None,
    write: bool = True,
    connection: list[Adapter] | None = None,
    flags: Mapping[str, Any] | None = None,
    late: LateCompile | None = None,
) -> Compiled:
    """Load and compile the project; write target/compiled/ and target/manifest.json when `write`.

    With `connection` (a list, empty or holding the open adapter), templates' run_query / statement run on
    the target (`execute` is true): the adapter is opened on first use and left in the list for the caller
    to use and close. `flags` are dbt's flags templates read (FULL_REFRESH, WHICH). `late` can then render
    the nodes whose templates run queries again, just before they run (see compile.compiler.LateCompile).
    """
    project = load(options)
    query = None
    if connection is not None:

        def query(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
            if not connection:
                connection.append(connect(project))
            return connection[0].fetch(sql)

    manifest = compile_project(
        project,
        target_dialect=engine_dialect(project),
        vars=options.vars,
        invocation_id=invocation_id or str(uuid.uuid4()),
        run_started_at=datetime.now(UTC),
        cache_dir=project.target_dir,
        query=query,
        flags=flags,
        late=late,
    )
    dag = build_dag(manifest)
    if write:
        write_compiled(project, manifest)
    return Compiled(project=project, manifest=manifest, dag=dag, warnings=lint(manifest))


def engine_dialect(project: Project) -> str:
    """The sqlglot dialect of the target's engine; ConfigError for a type sqlflow does not know."""
    return engine(project.target.type).dialect


def connect(project: Project) -> Adapter:
    """Open the target's adapter. On DuckDB, relative file paths in models (read_csv('landing/x.csv'))
    resolve against the project folder, wherever sqlflow was started."""
    from sqlflow.adapters import open_adapter  # the engine loads only when something runs

    target = project.target
    setting = engine(target.type).file_search_path_setting
    if setting is not None:
        options = dict(target.settings.get("settings") or {})
        options.setdefault(setting, str(project.root))
        target = dataclasses.replace(target, settings={**target.settings, "settings": options})
    return open_adapter(target)


def write_compiled(project: Project, manifest: Manifest) -> None:
    """target/compiled/<project>/<path>.sql for every compiled node, and target/manifest.json.

    An index of content hashes (target/compiled/.index.json) lets an unchanged project skip rewriting files.
    """
    out = project.target_dir
    compiled_root = out / "compiled" / project.name
    index_path = out / "compiled" / ".index.json"
    try:
        index: dict[str, str] = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    new_index: dict[str, str] = {}
    writes: list[tuple[Path, str]] = []
    for node in manifest.nodes.values():
        if isinstance(node, SensorNode) or node.compiled_sql is None:
            continue
        rel = node.path
        # a generic test has no file of its own; one snapshot file may hold several snapshots
        # (a unit test is declared in property YAML too)
        own_file = node.resource_type == "test" and node.test_type in ("generic", "unit")
        if own_file or node.resource_type == "snapshot":
            rel = f"{Path(node.path).parent.as_posix()}/{node.name}.sql"
        digest = hashlib.blake2b(node.compiled_sql.encode(), digest_size=16).hexdigest()
        new_index[rel] = digest
        dest = compiled_root / rel
        if index.get(rel) != digest or not dest.exists():
            writes.append((dest, node.compiled_sql))
    for folder in {dest.parent for dest, _ in writes}:
        folder.mkdir(parents=True, exist_ok=True)
    for dest, text in writes:
        dest.write_text(text)
    for stale in index.keys() - new_index.keys():
        (compiled_root / stale).unlink(missing_ok=True)
    write_json(index_path, new_index)
    write_json(out / "manifest.json", manifest_document(manifest))


def previous_results(project: Project) -> dict[str, str] | None:
    """unique_id -> status of the last run, from target/run_results.json; None when there is none."""
    path = project.target_dir / "run_results.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
        return {r["unique_id"]: r["status"] for r in doc.get("results", [])}
    except (ValueError, KeyError, TypeError):
        return None


def select(
    compiled: Compiled,
    select: Sequence[str],
    exclude: Sequence[str],
    *,
    resource_types: frozenset[str] | None,
    indirect: IndirectSelection = "eager",
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The selected unique ids, and the selector terms that matched nothing (for a warning). `indirect`:
    which tests come with the selected nodes (--indirect-selection)."""
    specs = [*select, *exclude]
    results = previous_results(compiled.project) if any("result:" in s for s in specs) else None
    selected = select_nodes(
        compiled.manifest,
        compiled.dag,
        select,
        exclude,
        previous_results=results,
        resource_types=resource_types,
        indirect=indirect,
    )
    unmatched = unmatched_terms(compiled.manifest, compiled.dag, specs, previous_results=results)
    return selected, unmatched


def state_schema(project: Project) -> str:
    """The schema of the target's state store: the target's `state_schema`; else `sqlflow_state` when the
    target uses its engine's default schema (main, public), and `<schema>_sqlflow_state` otherwise, so
    targets sharing a database (one schema per developer) never share run history or interval ledgers."""
    from sqlflow.state.store import DEFAULT_SCHEMA

    target = project.target
    if target.settings.get("state_schema"):
        return str(target.settings["state_schema"])
    spec = ENGINES.get(target.type)
    if spec is not None and target.schema == spec.default_schema:
        return DEFAULT_SCHEMA
    return f"{target.schema}_{DEFAULT_SCHEMA}"


def store_opener(project: Project) -> Callable[[], AbstractContextManager[StateStore]]:
    @contextmanager
    def open_store() -> Iterator[StateStore]:
        from sqlflow.state.store import StateStore

        adapter = connect(project)
        try:
            yield StateStore(adapter, state_schema(project))
        finally:
            adapter.close()

    return open_store


def plan_lines(plan: Plan) -> list[str]:
    return describe_plan(plan)


def list_nodes(
    options: Options,
    *,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
    resource_types: frozenset[str] | None = None,
    indirect: IndirectSelection = "eager",
) -> tuple[Compiled, list[str], tuple[str, ...]]:
    compiled = compile_all(options)
    selected, unmatched = select(compiled, select_, exclude, resource_types=resource_types, indirect=indirect)
    order = [uid for uid in compiled.dag.topological_order() if uid in selected]
    return compiled, order, unmatched


def compiled_selection(
    options: Options,
    *,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
    indirect: IndirectSelection = "eager",
) -> tuple[Compiled, list[str], tuple[str, ...]]:
    """For `compile -s`: the selected models, snapshots and tests that have compiled SQL, in dependency
    order. Tests only when nothing else is selected: a model's tests come with it (indirect selection), and
    dbt's `compile -s` prints only what the selector names."""
    kinds = frozenset({"model", "snapshot", "test"})
    compiled, order, unmatched = list_nodes(
        options, select_=select_, exclude=exclude, resource_types=kinds, indirect=indirect
    )
    nodes = compiled.manifest.nodes
    order = [uid for uid in order if getattr(nodes[uid], "compiled_sql", None) is not None]
    others = [uid for uid in order if nodes[uid].resource_type != "test"]
    return compiled, others or order, unmatched


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own per thread: runs of the scheduler may write the same file at once
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(doc, default=str))
    tmp.replace(path)
