"""What reading a project folder yields: validated, plain, frozen data (no Jinja, no SQL parsing yet).

`sqlflow.project.load_project()` builds a `Project`; the compiler turns it into a Manifest.
Imports only `sqlflow.errors`, `sqlflow.manifest` and the notifications config's types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlflow.errors import SourceLocation
from sqlflow.manifest import EMPTY, ColumnInfo
from sqlflow.project.notifications import NO_NOTIFICATIONS, Notifications
from sqlflow.project.run_hooks import RunHook


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One output of a profile: where the project runs."""

    name: str  # the target's name in profiles.yml ("dev"), or "default" for the embedded DuckDB
    profile_name: str
    type: str  # "duckdb" | "postgres"
    schema: str  # default schema: "main" on DuckDB, "public" on PostgreSQL unless set
    database: str | None  # DuckDB: the file's stem; PostgreSQL: dbname
    threads: int | None = None
    settings: Mapping[str, Any] = EMPTY  # everything else: path, host, port, user, password ...
    profiles_file: str | None = None  # None when no profile was found (embedded DuckDB default)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """A file of the project: a model, seed, singular test or macro file."""

    path: str  # relative to the project root, with forward slashes
    abs_path: Path
    text: str  # empty for seeds (the CSV is read by the engine)
    checksum: str  # sha256 of the bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TestSpec:
    """One test declared in property YAML: a generic test (`- not_null`, `- accepted_values: {values: [..]}`)
    or a Great Expectations expectation (`expectations:`, `expectation_suite:`; test_type "expectation")."""

    __test__ = False  # not a pytest test class

    test_name: str  # the generic test, as written (`dbt_utils.accepted_range`), or the expectation's name
    kwargs: Mapping[str, Any] = EMPTY  # values, to, field, arguments ...; an expectation's kwargs
    config: Mapping[str, Any] = EMPTY  # severity, where, limit, tags ...
    column_name: str | None = None
    path: str = ""  # property file, relative
    line: int | None = None
    name: str | None = None  # a custom test name (`name:` in the entry), else None
    description: str = ""
    test_type: Literal["generic", "expectation"] = "generic"


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeProperties:
    """What property YAML says of one model, seed or snapshot (an entry of `models:`, `seeds:` or
    `snapshots:`)."""

    name: str
    path: str  # the property file, relative
    line: int | None
    description: str = ""
    columns: tuple[ColumnInfo, ...] = ()
    config: Mapping[str, Any] = EMPTY  # normalised keys (no '+', '-' -> '_'); validated
    tests: tuple[TestSpec, ...] = ()  # model-level and column-level tests (and expectations) together
    # normalised config key -> the line it is written on (for messages; not part of equality)
    config_lines: Mapping[str, int] = field(default=EMPTY, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTable:
    """One table under a `sources:` entry."""

    source_name: str
    name: str
    path: str
    line: int | None
    database: str | None
    schema: str  # the source's schema, defaulting to the source name as in dbt
    identifier: str  # the table's `identifier`, defaulting to its name
    description: str = ""
    columns: tuple[ColumnInfo, ...] = ()
    loaded_at_field: str | None = None
    freshness: Mapping[str, Any] = EMPTY
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = EMPTY
    tests: tuple[TestSpec, ...] = ()
    # `config:` keys sqlflow does not read itself, source's then table's (dbt-duckdb's external_location,
    # formatter and the names they format with): dbt keeps them, and so does sqlflow
    config: Mapping[str, Any] = EMPTY


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorSpec:
    """One entry of `sensors:` in property YAML, checked; the compiler renders its Jinja and SQL.

    `params` hold the kind's arguments, normalised (see manifest.SensorNode); a sql sensor's `sql` is still
    the text as written. `poke` holds the five re-poke settings in seconds (see project/poke.py).
    """

    name: str
    kind: Literal["sql", "file", "http", "time"]
    path: str  # the property file, relative
    line: int | None
    params: Mapping[str, Any] = EMPTY
    poke: Mapping[str, Any] = EMPTY
    description: str = ""
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = EMPTY
    param_lines: Mapping[str, int] = field(default=EMPTY, compare=False, repr=False)  # param -> its line


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleJob:
    """One entry of `schedules:` in sqlflow.yml, checked (see project/schedules.py and docs/schedule.md)."""

    name: str
    cron: str  # croniter syntax (a 6th field for seconds) or a preset such as @daily
    timezone: str = "UTC"  # IANA name; ticks are computed on this zone's wall clock
    command: str = "build"  # run | build | seed | test | snapshot
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    vars: Mapping[str, Any] = EMPTY
    catchup: bool = False  # run every missed tick (oldest first), else only the latest
    max_active_runs: int = 1
    overlap: Literal["skip", "queue"] = "skip"  # a tick that comes while max_active_runs runs are running
    full_refresh: bool = False
    description: str = ""
    path: str = ""  # the project file
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocBlock:
    """A `{% docs name %} ... {% enddocs %}` block of a Markdown file; `doc('name')` in a description."""

    name: str
    text: str  # the body, stripped
    path: str
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitTestSpec:
    """One entry of `unit_tests:` in property YAML: the model's inputs replaced by `given` rows, its output
    compared with `expect` (see project/unit_tests.py)."""

    __test__ = False  # not a pytest test class

    name: str
    model: str
    path: str
    line: int | None
    # each: {"input": "ref('x')" | "source('a', 'b')" | "this", "rows": [...] | csv text | sql text,
    #        "format": "dict" | "csv" | "sql", "line": int}
    given: tuple[Mapping[str, Any], ...] = ()
    expect: Mapping[str, Any] = EMPTY  # {"rows": ..., "format": ...}
    overrides: Mapping[str, Any] = EMPTY  # {"macros": {...}, "vars": {...}, "env_vars": {...}}
    description: str = ""
    config: Mapping[str, Any] = EMPTY  # tags, meta, enabled


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledPackage:
    """A package installed under dbt_packages/ (as `dbt deps` leaves it; see project/packages.py)."""

    name: str  # the `name:` of its dbt_project.yml: its macros' namespace (`dbt_utils.star`)
    path: str  # its folder, relative to the project root ("dbt_packages/dbt_utils")
    macro_files: tuple[SourceFile, ...] = ()  # paths relative to the project root
    model_count: int = 0  # its models, not built yet


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A project folder, read and validated."""

    root: Path
    name: str
    config_file: str  # "sqlflow.yml" or "dbt_project.yml"
    profile: str | None
    dialect: str  # the dialect the SQL is written in (default "duckdb")
    model_paths: tuple[str, ...] = ("models",)
    seed_paths: tuple[str, ...] = ("seeds",)
    test_paths: tuple[str, ...] = ("tests",)
    macro_paths: tuple[str, ...] = ("macros",)
    snapshot_paths: tuple[str, ...] = ("snapshots",)
    target_path: str = "target"
    clean_targets: tuple[str, ...] = ("target",)  # folders `sqlflow clean` removes
    vars: Mapping[str, Any] = EMPTY
    # the `models:` / `seeds:` / `tests:` / `snapshots:` trees of sqlflow.yml below the project-name level,
    # validated: configs as "+snake_key" with coerced values, folders as plain keys (subtrees). See
    # folder_config().
    model_configs: Mapping[str, Any] = EMPTY
    seed_configs: Mapping[str, Any] = EMPTY
    test_configs: Mapping[str, Any] = EMPTY
    snapshot_configs: Mapping[str, Any] = EMPTY
    pools: Mapping[str, int] = EMPTY  # concurrency pool -> the nodes it runs at once (`pools:`)
    notifications: Notifications = NO_NOTIFICATIONS  # `notifications:` (project/notifications.py)
    schedules: tuple[ScheduleJob, ...] = ()  # `schedules:` (project/schedules.py)
    target: Target
    model_files: tuple[SourceFile, ...] = ()
    seed_files: tuple[SourceFile, ...] = ()
    test_files: tuple[SourceFile, ...] = ()  # singular tests
    macro_files: tuple[SourceFile, ...] = ()
    snapshot_files: tuple[SourceFile, ...] = ()  # `{% snapshot %}` blocks, or one snapshot's select each
    model_properties: Mapping[str, NodeProperties] = EMPTY  # by model name
    seed_properties: Mapping[str, NodeProperties] = EMPTY  # by seed name
    snapshot_properties: Mapping[str, NodeProperties] = EMPTY  # by snapshot name
    source_tables: tuple[SourceTable, ...] = ()
    sensors: tuple[SensorSpec, ...] = ()
    # dbt project parts
    analysis_paths: tuple[str, ...] = ("analyses",)
    analysis_files: tuple[SourceFile, ...] = ()  # compiled into target/compiled, never run
    doc_blocks: Mapping[str, DocBlock] = EMPTY  # by name
    unit_tests: tuple[UnitTestSpec, ...] = ()
    quoting: Mapping[str, bool] = EMPTY  # dbt's `quoting:` (database, schema, identifier)
    on_run_start: tuple[RunHook, ...] = ()  # dbt's on-run-start / on-run-end (project/run_hooks.py)
    on_run_end: tuple[RunHook, ...] = ()
    run_audits: bool = False  # `flags: {run_audits: true}`: `sqlflow run` audits as `build` does
    packages: tuple[tuple[str, SourceLocation], ...] = ()  # what packages.yml lists (none is installed)
    installed_packages: tuple[InstalledPackage, ...] = ()  # dbt_packages/*, sorted by name
    dispatch: Mapping[str, tuple[str, ...]] = EMPTY  # `dispatch:`: macro_namespace -> search_order
    # what dbt accepts and sqlflow warns about (a likely typo of a key, a config the engine ignores)
    warnings: tuple[tuple[str, SourceLocation], ...] = ()

    @property
    def target_dir(self) -> Path:
        return self.root / self.target_path
