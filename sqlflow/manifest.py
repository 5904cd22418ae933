"""The manifest: frozen, plain data describing every node of a compiled project.

Nodes hold strings, tuples and mappings only (no sqlglot or Jinja objects), so tests build real nodes and the
manifest serialises to JSON as it is. A compiled node is `dataclasses.replace(node, compiled_sql=...)`.
Imports nothing from sqlflow but `errors`, `engines` (quoting) and `policies` (the typed run
settings of a node).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from sqlflow.engines import quote_identifier
from sqlflow.policies import NO_RETRY, POKE_DEFAULTS, PokeSettings, RetryPolicy, TimeRange


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping, usable as a dataclass default.

    >>> m = FrozenMap({"a": 1})
    >>> m["a"], len(m), dict(m)
    (1, 1, {'a': 1})
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


EMPTY: Mapping[str, Any] = FrozenMap()

# the kinds and choices of a node's config, as types; the tuples are what the config is checked against
Materialization = Literal["view", "table", "ephemeral", "incremental", "seed", "snapshot"]
# time_range: one delete-then-insert per interval of `time_column`, with the interval ledger; dbt's
# `microbatch` is the same strategy under another name
IncrementalStrategy = Literal[
    "append", "merge", "delete+insert", "time_range", "microbatch", "insert_overwrite", "replace_where"
]
OnSchemaChange = Literal["ignore", "fail", "append_new_columns", "sync_all_columns"]
Severity = Literal["error", "warn"]
SnapshotStrategy = Literal["timestamp", "check"]
HardDeletes = Literal["ignore", "invalidate", "new_record"]
OnFailure = Literal["fail", "skip_downstream", "continue"]
MATERIALIZATIONS: tuple[Materialization, ...] = get_args(Materialization)
INCREMENTAL_STRATEGIES: tuple[IncrementalStrategy, ...] = get_args(IncrementalStrategy)
CONFIG_CHOICES: Mapping[str, tuple[str, ...]] = {
    "materialized": MATERIALIZATIONS,
    "incremental_strategy": INCREMENTAL_STRATEGIES,
    "on_schema_change": get_args(OnSchemaChange),
    "severity": get_args(Severity),
    "strategy": get_args(SnapshotStrategy),
    "hard_deletes": get_args(HardDeletes),
    "on_failure": get_args(OnFailure),
}
TIME_RANGE_STRATEGIES: frozenset[str] = frozenset({"time_range", "microbatch"})
# strategies of other warehouses' dbt adapters: accepted, as dbt-duckdb parses them, and refused only when
# an incremental run uses them (a first or full-refresh build creates the table)
UNBUILDABLE_STRATEGIES: frozenset[str] = frozenset({"insert_overwrite", "replace_where"})
# the columns a snapshot adds to its select, named as dbt names them; `dbt_is_deleted` ('True' / 'False'
# text, as in dbt) only with hard_deletes: new_record
SNAPSHOT_META_COLUMNS: tuple[str, ...] = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
SNAPSHOT_DELETED_COLUMN = "dbt_is_deleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class Relation:
    """A database object: `database` is the catalog (None when the engine has one), `schema`, `identifier`."""

    database: str | None
    schema: str
    identifier: str

    def render(self, *, include_database: bool = False) -> str:
        """Double-quoted dotted name, valid on DuckDB and PostgreSQL.

        >>> Relation(database="shop", schema="main", identifier="orders").render()
        '"main"."orders"'
        """
        parts = [self.schema, self.identifier]
        if include_database and self.database:
            parts.insert(0, self.database)
        return ".".join(quote_identifier(p) for p in parts)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """The configuration of one node, merged from sqlflow.yml, property YAML and config() (in that order).

    Field names are the keys users write (`+materialized`, `pre-hook` and `pre_hook` both map here).
    """

    enabled: bool = True
    materialized: Materialization = "view"
    schema: str | None = None
    database: str | None = None
    alias: str | None = None
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = EMPTY
    docs: Mapping[str, Any] = EMPTY
    unique_key: tuple[str, ...] = ()
    incremental_strategy: IncrementalStrategy | None = None
    on_schema_change: OnSchemaChange = "fail"
    incremental_predicates: tuple[str, ...] = ()  # SQL conditions on the target (DBT_INTERNAL_DEST) rows
    full_refresh: bool | None = None
    # time-range incremental models (incremental_strategy time_range / microbatch)
    time_column: str | None = None  # also on upstream models: refs to them are filtered to the interval
    batch_size: str | None = None  # the interval: "5 minutes", hour, day, week, month
    begin: str | None = None  # ISO date or datetime of the first interval
    lookback: int | None = None  # re-process the last N intervals on every run
    cron: str | None = None  # intervals are due up to the latest tick of this cron expression
    batch_timezone: str | None = None  # IANA zone whose wall clock day/week/month intervals follow (UTC)
    concurrent_batches: bool | None = None  # a backfill may run this model's intervals in parallel
    # snapshots (SCD type 2)
    strategy: SnapshotStrategy | None = None
    updated_at: str | None = None  # timestamp strategy: the column that says a row changed
    check_cols: tuple[str, ...] = ()  # check strategy: compared columns; ("all",) for every column
    hard_deletes: HardDeletes | None = None  # ignore when not set
    invalidate_hard_deletes: bool | None = None  # dbt's older spelling of hard_deletes: invalidate
    target_schema: str | None = None  # dbt's older snapshot spelling of schema
    target_database: str | None = None
    pre_hook: tuple[str, ...] = ()
    post_hook: tuple[str, ...] = ()
    dialect: str | None = None
    # seeds
    column_types: Mapping[str, str] = EMPTY
    delimiter: str = ","
    quote_columns: bool | None = None
    # tests
    severity: Severity = "error"
    where: str | None = None
    limit: int | None = None
    warn_if: str = "!= 0"
    error_if: str = "!= 0"
    store_failures: bool = False
    # tests on sources (and any test): re-check until it passes; normalised by project/config.py to
    # {"poke_interval": seconds, "timeout": seconds, "on_timeout": "fail" | "skip", "backoff": bool,
    #  "max_poke_interval": seconds | None}; empty = not a sensor
    sensor: Mapping[str, Any] = EMPTY
    # orchestration: retries of a failed build (durations as written: 10s, 2m; checked and parsed once by
    # the compile into ModelNode.retry and ModelNode.timeout_seconds)
    retries: int | None = None  # further attempts after a failure the retry policy allows
    retry_delay: str | None = None  # before the first retry (default 5s)
    retry_backoff: bool | None = None  # double the delay after each attempt (default true)
    max_retry_delay: str | None = None  # cap of the growing delay (default 5m)
    retry_on: tuple[str, ...] = ()  # error classes (transient, connection, lock, timeout, any) or patterns
    on_failure: OnFailure | None = None  # fail when not set
    timeout: str | None = None  # cancel the build after this long
    pool: str | None = None  # a concurrency pool of sqlflow.yml's `pools:`
    priority: int | None = None  # higher starts first among ready nodes
    # explicit upstream nodes, e.g. ("sensor:landing_file",), ("model_name",) or ("source:raw.orders",):
    # dependencies sqlflow cannot see in the SQL; the compiler adds their unique ids to depends_on
    depends_on: tuple[str, ...] = ()
    # keys sqlflow does not know, kept as dbt keeps them (a macro reads them with config.get('start'))
    extra: Mapping[str, Any] = EMPTY


# the keys users write; `extra` holds the others
CONFIG_KEYS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(NodeConfig)) - {"extra"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnInfo:
    name: str
    data_type: str | None = None
    description: str = ""
    meta: Mapping[str, Any] = EMPTY


@dataclass(frozen=True, slots=True, kw_only=True)
class FileLoad:
    """CSV files a model reads in SQL (`read_csv('landing/*.csv', header = true)`), compiled for an engine
    that cannot read files (PostgreSQL): the runner loads them into `relation`, which the compiled SQL reads
    instead, before it builds the model. `paths` are the globs as written (relative to the project root, or
    absolute); `options` are read_csv's, normalised: header (bool), delim, quote, escape, nullstr (str),
    skip (int)."""

    relation: Relation
    paths: tuple[str, ...]
    options: Mapping[str, Any] = EMPTY


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelNode:
    """A model (`models/*.sql`), a seed (`seeds/*.csv`), a snapshot (`snapshots/*.sql`) or an analysis
    (`analyses/*.sql`: compiled, never run)."""

    unique_id: str
    name: str
    resource_type: Literal["model", "seed", "snapshot", "analysis"]
    package_name: str
    path: str  # relative to the project root, e.g. "models/staging/stg_orders.sql"
    fqn: tuple[str, ...]
    raw_sql: str
    checksum: str
    config: NodeConfig
    relation: Relation
    description: str = ""
    columns: tuple[ColumnInfo, ...] = ()
    patch_path: str | None = None  # the property YAML that described it
    # filled in by the compiler
    compiled_sql: str | None = None
    incremental_sql: str | None = None  # rendered with is_incremental() true, for incremental models
    depends_on: tuple[str, ...] = ()  # unique ids, sorted
    refs: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    external_tables: tuple[str, ...] = ()
    inferred_columns: tuple[str, ...] = ()
    # files the SQL reads (read_csv('landing/*.csv'), FROM 'x.parquet' ...) as written; file sensors covering
    # them are in depends_on
    file_reads: tuple[str, ...] = ()
    # on an engine that cannot read files in SQL: the files the runner loads into tables first
    file_loads: tuple[FileLoad, ...] = ()
    # its template runs queries (dbt's run_query, statement): compiled_sql is the text rendered with
    # `execute` false; the runner has it rendered again on the target just before it builds the node
    late_sql: bool = False
    # orchestration and time-range settings, parsed once from the config by the compile (the runner reads
    # these and never a config string)
    retry: RetryPolicy = NO_RETRY
    timeout_seconds: float | None = None  # cancel the build after this long
    time_range: TimeRange | None = None  # set for a time-range incremental model

    @property
    def tags(self) -> tuple[str, ...]:
        return self.config.tags

    @property
    def build_kind(self) -> str:
        """How the node is built: its `materialized` config for a model, else its kind (seed, snapshot,
        analysis). The one answer the plan, the materializations and the docs ask for."""
        return self.config.materialized if self.resource_type == "model" else self.resource_type


@dataclass(frozen=True, slots=True, kw_only=True)
class TestNode:
    """A data test: a generic test from property YAML, or a singular SQL test from `tests/`.

    Running `compiled_sql` returns the failing rows.
    """

    unique_id: str
    name: str
    package_name: str
    path: str
    fqn: tuple[str, ...]
    # expectation: a Great Expectations check; unit: a dbt unit test (kwargs hold its fixtures, see
    # compile/nodes/unit_tests.py), attached to the model it tests, which `build` runs after it
    test_type: Literal["generic", "singular", "expectation", "unit"]
    test_name: str  # not_null, unique, ... or the singular test's file stem
    raw_sql: str
    checksum: str
    config: NodeConfig
    attached_node: str | None = None  # unique id of the model/seed/source it tests
    column_name: str | None = None
    kwargs: Mapping[str, Any] = EMPTY
    line: int | None = None  # where it is declared in `path`
    description: str = ""
    compiled_sql: str | None = None
    depends_on: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    resource_type: Literal["test"] = "test"

    @property
    def tags(self) -> tuple[str, ...]:
        return self.config.tags

    @property
    def poke(self) -> PokeSettings | None:
        """How the test re-pokes when it acts as a sensor (its `sensor:` config, normalised by the
        project's loader), the same settings type a SensorNode has; None when it is a plain test."""
        return PokeSettings(**self.config.sensor) if self.config.sensor else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceNode:
    """A table loaded by something else, declared under `sources:` in property YAML."""

    unique_id: str  # source.<package>.<source_name>.<name>
    source_name: str
    name: str
    package_name: str
    path: str
    line: int | None
    fqn: tuple[str, ...]
    relation: Relation
    description: str = ""
    columns: tuple[ColumnInfo, ...] = ()
    loaded_at_field: str | None = None
    freshness: Mapping[str, Any] = EMPTY
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = EMPTY
    # what source() prints instead of the relation: dbt-duckdb's `external_location`, formatted (a quoted
    # path, or a table function such as read_csv(...))
    external: str | None = None
    resource_type: Literal["source"] = "source"


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorNode:
    """A node that waits for something outside the project before its descendants may run.

    Declared under `sensors:` in property YAML. `kind` picks the check, `params` are its arguments (every key
    always present, normalised by the compiler):
    sql  {"sql": compiled query in the target dialect}  truthy first value, or at least one row
    file {"path": glob relative to the project root or absolute, "min_size": bytes | None, "stable": bool}
    http {"url", "method": "GET" ..., "status": tuple of accepted codes (200..299 by default),
          "json_path": dotted path | None, "truthy": bool, "equals": value | None, "headers": {str: str}}
         with json_path: truthy -> the field must be truthy, else it must equal `equals`
    time {"at": "HH:MM:SS" | None, "timezone": IANA name ("UTC" by default), "delay": seconds | None}
         exactly one of at / delay
    """

    unique_id: str  # sensor.<project>.<name>
    name: str
    package_name: str
    path: str  # the property file
    line: int | None
    fqn: tuple[str, ...]
    kind: Literal["sql", "file", "http", "time"]
    params: Mapping[str, Any] = EMPTY
    poke_interval: float = POKE_DEFAULTS.poke_interval  # seconds
    timeout: float = POKE_DEFAULTS.timeout  # seconds
    on_timeout: Literal["fail", "skip"] = POKE_DEFAULTS.on_timeout
    backoff: bool = POKE_DEFAULTS.backoff  # double the poke interval after each miss, up to max_poke_interval
    max_poke_interval: float | None = POKE_DEFAULTS.max_poke_interval
    description: str = ""
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = EMPTY
    depends_on: tuple[str, ...] = ()  # a sql sensor may read models and sources
    resource_type: Literal["sensor"] = "sensor"

    @property
    def poke(self) -> PokeSettings:
        return PokeSettings(
            poke_interval=self.poke_interval,
            timeout=self.timeout,
            on_timeout=self.on_timeout,
            backoff=self.backoff,
            max_poke_interval=self.max_poke_interval,
        )


Node = ModelNode | TestNode | SourceNode | SensorNode


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """Every node of a project, keyed by unique id, plus facts about the compile."""

    project_name: str
    dialect: str  # the dialect the project's SQL is written in
    target_dialect: str  # the engine's dialect, compiled_sql is written in it
    nodes: Mapping[str, ModelNode | TestNode | SensorNode] = EMPTY
    sources: Mapping[str, SourceNode] = EMPTY
    metadata: Mapping[str, Any] = field(default=EMPTY)

    def all_nodes(self) -> Iterator[Node]:
        yield from self.sources.values()
        yield from self.nodes.values()

    def get(self, unique_id: str) -> Node:
        if unique_id in self.nodes:
            return self.nodes[unique_id]
        return self.sources[unique_id]

    def models(self) -> Iterator[ModelNode]:
        """The models, seeds and snapshots (analyses are never built: see `analyses()`)."""
        for node in self.nodes.values():
            if isinstance(node, ModelNode) and node.resource_type != "analysis":
                yield node

    def analyses(self) -> Iterator[ModelNode]:
        for node in self.nodes.values():
            if isinstance(node, ModelNode) and node.resource_type == "analysis":
                yield node

    def tests(self) -> Iterator[TestNode]:
        for node in self.nodes.values():
            if isinstance(node, TestNode):
                yield node

    def sensors(self) -> Iterator[SensorNode]:
        for node in self.nodes.values():
            if isinstance(node, SensorNode):
                yield node
