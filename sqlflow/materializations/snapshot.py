"""snapshot: keep every version of the rows of a select (a type 2 slowly changing dimension), as dbt does.

The table holds the select's columns plus dbt's meta columns, so SQL written for dbt snapshots works:
`dbt_scd_id` (md5 of the unique key and the version's dbt_valid_from), `dbt_updated_at`, `dbt_valid_from`,
`dbt_valid_to` (NULL for the current version) and, with `hard_deletes: new_record`, `dbt_is_deleted`
('True' / 'False' text, as dbt writes it).

The first run creates the table from the select (valid from `updated_at`, or the snapshot time for the
check strategy). Each later run, in one transaction (the caller's, under write-audit-publish): stage the
select in a temporary table; add its new columns to the table (none is ever dropped); close the current
version of every key whose row changed (timestamp: `updated_at` later than the version's dbt_updated_at;
check: a `check_cols` column IS DISTINCT FROM the version's) and insert its new version, and a version for
every new key; then the hard deletes of keys gone from the select: `ignore` keeps them current,
`invalidate` closes them, `new_record` closes them and inserts a deletion record (dbt_is_deleted 'True')
after which a key that comes back gets a fresh version. A new version never starts before the key's last
version ended (a key coming back with an old updated_at starts at the snapshot time). The snapshot time is
`ctx.snapshot_time`, else the database's current_timestamp in UTC. A full refresh never rebuilds a
snapshot: its history cannot be built again. SQL is ANSI where it can be (DuckDB and PostgreSQL); no driver
is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlflow.adapters.sql import (
    add_column,
    column_types,
    create_table_as,
    drop_relation,
    quote,
    relation_sql,
    select_nothing,
    string_literal,
)
from sqlflow.errors import NodeFailedError, did_you_mean
from sqlflow.manifest import SNAPSHOT_DELETED_COLUMN, SNAPSHOT_META_COLUMNS, ModelNode
from sqlflow.materializations.context import BuildContext, BuildResult, compiled_sql, transaction, with_rows

STAGE_SUFFIX = "__sqlflow_snap"
CHANGES_SUFFIX = "__sqlflow_snap_changes"
SRC, CUR, TGT, HIST, NEW = "snapshot_source", "snapshot_current", "snapshot_target", "snapshot_history", "ch"
SCD_ID, UPDATED_AT, VALID_FROM, VALID_TO = SNAPSHOT_META_COLUMNS
_META_FOLDED = frozenset(c.lower() for c in (*SNAPSHOT_META_COLUMNS, SNAPSHOT_DELETED_COLUMN))


@dataclass(frozen=True, slots=True)
class _Columns:
    """The names one run works with: stage columns, each with the table's name for it."""

    pairs: tuple[tuple[str, str], ...]  # (table column, stage column), in the stage's order
    keys: tuple[tuple[str, str], ...]  # the unique key, as pairs
    updated_at: str | None  # the stage's updated_at column (timestamp strategy)
    checked: tuple[tuple[str, str], ...]  # the compared columns, as pairs (check strategy)


def snapshot_time_sql(when: datetime | None, dialect: str) -> str:
    """The snapshot time as a TIMESTAMP without time zone, in UTC; None: the database's clock.

    >>> from datetime import timedelta, timezone
    >>> snapshot_time_sql(datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))), "duckdb")
    "CAST('2024-05-01 12:30:00' AS TIMESTAMP)"
    >>> snapshot_time_sql(None, "postgres")
    "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"
    """
    if when is None:
        return "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return f"CAST({string_literal(when.isoformat(sep=' '), dialect)} AS TIMESTAMP)"


def build_snapshot(node: ModelNode, ctx: BuildContext) -> BuildResult:
    adapter = ctx.adapter
    dialect = adapter.dialect
    existing = ctx.relations.get(node.relation)
    if existing == "view":
        raise NodeFailedError(
            f"{node.relation} is a view, not the table of snapshot {node.name}",
            hint="drop the view, or give the snapshot another alias",
        )
    stage = node.relation.identifier + STAGE_SUFFIX
    with transaction(ctx):
        for hook in node.config.pre_hook:
            adapter.execute(hook)
        adapter.execute(create_table_as(stage, compiled_sql(node), dialect, temporary=True))
        stage_columns = adapter.fetch(select_nothing(stage, dialect))[0]
        if existing is None:
            fold = adapter.case_insensitive_identifiers
            columns = _columns(node, [(c, c) for c in stage_columns], stage_columns, fold=fold)
            _check_keys(ctx, node, stage, columns)
            rows = adapter.execute(_create(node, ctx, stage, columns))
            verb = "CREATE TABLE"
        else:
            rows = _update(node, ctx, stage, stage_columns)
            verb = "SNAPSHOT"
        adapter.execute(drop_relation(stage, "table", dialect))
        for hook in node.config.post_hook:
            adapter.execute(hook)
    ctx.relations.set(node.relation, "table")
    return BuildResult(rows, with_rows(verb, rows))


def _update(node: ModelNode, ctx: BuildContext, stage: str, stage_columns: list[str]) -> int:
    """A later run: add new columns, close changed and deleted versions, insert new ones; rows written."""
    adapter = ctx.adapter
    dialect, fold = adapter.dialect, adapter.case_insensitive_identifiers
    target = adapter.fetch(select_nothing(node.relation, dialect))[0]
    by_name = {_fold(c, fold): c for c in target}
    missing_meta = [c for c in SNAPSHOT_META_COLUMNS if _fold(c, fold) not in by_name]
    if missing_meta:
        raise NodeFailedError(
            f"{node.relation} is not a snapshot table (it has no {', '.join(missing_meta)})",
            hint="drop it, or give the snapshot another alias",
        )
    added = [c for c in stage_columns if _fold(c, fold) not in by_name]
    if added:
        types = dict((row[0], row[1]) for row in adapter.fetch(column_types(stage, dialect))[1])
        for column in added:
            adapter.execute(add_column(node.relation, column, types[column], dialect))
            by_name[_fold(column, fold)] = column
    if hard_deletes_of(node) == "new_record" and _fold(SNAPSHOT_DELETED_COLUMN, fold) not in by_name:
        adapter.execute(add_column(node.relation, SNAPSHOT_DELETED_COLUMN, "VARCHAR", dialect))
        deleted = quote(SNAPSHOT_DELETED_COLUMN, dialect)
        adapter.execute(f"UPDATE {relation_sql(node.relation, dialect)} SET {deleted} = 'False'")
    pairs = [(by_name[_fold(c, fold)], c) for c in stage_columns]
    columns = _columns(node, pairs, stage_columns, fold=fold)
    _check_keys(ctx, node, stage, columns)
    changes = node.relation.identifier + CHANGES_SUFFIX
    adapter.execute(_stage_changes(node, ctx, stage, changes, columns))
    data_columns = [t for t in target if _fold(t, fold) not in _META_FOLDED]
    rows = 0
    for sql in (
        _close_changed(node, ctx, changes, columns),
        *_hard_deletes(node, ctx, stage, columns, data_columns),
        _insert_changes(node, ctx, changes, columns),
    ):
        rows += adapter.execute(sql) or 0
    adapter.execute(drop_relation(changes, "table", dialect))
    return rows


def hard_deletes_of(node: ModelNode) -> str:
    """ignore, invalidate or new_record (dbt's older `invalidate_hard_deletes: true` is invalidate)."""
    config = node.config
    return config.hard_deletes or ("invalidate" if config.invalidate_hard_deletes else "ignore")


def _fold(name: str, fold: bool) -> str:
    return name.lower() if fold else name


def _columns(
    node: ModelNode, pairs: Sequence[tuple[str, str]], stage: Sequence[str], *, fold: bool
) -> _Columns:
    """The snapshot's config resolved against the staged select's columns."""
    config = node.config
    by_name = {_fold(s, fold): (t, s) for t, s in pairs}
    clash = [s for _, s in pairs if s.lower() in _META_FOLDED]
    if clash:
        raise NodeFailedError(
            f"the select of snapshot {node.name} has a column named {clash[0]}, which the snapshot adds",
            hint="rename or leave out that column in the select",
        )

    def find(name: str, what: str) -> tuple[str, str]:
        found = by_name.get(_fold(name, fold))
        if found is None:
            raise NodeFailedError(
                f"{what} '{name}' of snapshot {node.name} is not a column of its select",
                hint=did_you_mean(name, stage) or "columns: " + ", ".join(stage),
            )
        return found

    keys = tuple(find(k, "unique_key") for k in config.unique_key)
    updated_at: str | None = None
    if config.strategy == "timestamp":
        assert config.updated_at is not None  # compile requires it (compile/nodes/snapshots.py)
        updated_at = find(config.updated_at, "updated_at")[1]
    checked: tuple[tuple[str, str], ...] = ()
    if config.strategy == "check":
        if tuple(config.check_cols) == ("all",):
            key_names = set(keys)
            checked = tuple(p for p in pairs if p not in key_names)
        else:
            checked = tuple(find(c, "check_cols column") for c in config.check_cols)
    return _Columns(tuple(pairs), keys, updated_at, checked)


def _check_keys(ctx: BuildContext, node: ModelNode, stage: str, columns: _Columns) -> None:
    """NodeFailedError when the select repeats a unique key or has a row without one."""
    dialect = ctx.adapter.dialect
    keys = [quote(s, dialect) for _, s in columns.keys]
    name = quote(stage, dialect)
    sql = (
        f"SELECT (SELECT COUNT(*) FROM (SELECT 1 AS one FROM {name} GROUP BY {', '.join(keys)} "
        f"HAVING COUNT(*) > 1) AS repeated), "
        f"(SELECT COUNT(*) FROM {name} WHERE {' OR '.join(f'{k} IS NULL' for k in keys)})"
    )
    repeated, nulls = ctx.adapter.fetch(sql)[1][0]
    shown = ", ".join(s for _, s in columns.keys)
    if repeated:
        raise NodeFailedError(
            f"the unique_key ({shown}) of snapshot {node.name} is not unique in its select: "
            f"{repeated} {'key appears' if repeated == 1 else 'keys appear'} more than once",
            hint="fix the select, or choose a unique_key that names one row",
        )
    if nulls:
        raise NodeFailedError(
            f"{nulls} {'row' if nulls == 1 else 'rows'} of the select of snapshot {node.name} "
            f"{'has' if nulls == 1 else 'have'} a null unique_key ({shown})",
            hint="filter them out in the select",
        )


def _scd_id(keys: Sequence[str], version: str) -> str:
    """md5 of the key columns and the version's start, '|'-separated (dbt's dbt_scd_id)."""
    parts = [f"COALESCE(CAST({k} AS VARCHAR), '')" for k in (*keys, version)]
    return "md5(" + " || '|' || ".join(parts) + ")"


def _on(dialect: str, keys: Sequence[tuple[str, str]], table_alias: str, stage_alias: str) -> str:
    """The unique key equalities between a table-named relation and a stage-named one."""
    return " AND ".join(
        f"{stage_alias}.{quote(s, dialect)} = {table_alias}.{quote(t, dialect)}" for t, s in keys
    )


def _create(node: ModelNode, ctx: BuildContext, stage: str, columns: _Columns) -> str:
    """The first run: the select and its meta columns, every row valid from now on."""
    dialect = ctx.adapter.dialect
    if columns.updated_at is not None:
        version = f"{SRC}.{quote(columns.updated_at, dialect)}"
    else:
        version = snapshot_time_sql(ctx.snapshot_time, dialect)
    keys = [f"{SRC}.{quote(s, dialect)}" for _, s in columns.keys]
    meta = [
        f"{_scd_id(keys, version)} AS {quote(SCD_ID, dialect)}",
        f"{version} AS {quote(UPDATED_AT, dialect)}",
        f"{version} AS {quote(VALID_FROM, dialect)}",
        f"NULLIF({version}, {version}) AS {quote(VALID_TO, dialect)}",
    ]
    if hard_deletes_of(node) == "new_record":
        meta.append(f"'False' AS {quote(SNAPSHOT_DELETED_COLUMN, dialect)}")
    select = f"SELECT {SRC}.*, {', '.join(meta)} FROM {quote(stage, dialect)} AS {SRC}"
    return create_table_as(node.relation, select, dialect)


def _stage_changes(node: ModelNode, ctx: BuildContext, stage: str, changes: str, columns: _Columns) -> str:
    """A temporary table of the new versions: the staged rows of new keys and of changed keys, with the
    meta columns they start with."""
    dialect = ctx.adapter.dialect
    table = relation_sql(node.relation, dialect)
    now = snapshot_time_sql(ctx.snapshot_time, dialect)
    joins = (
        f"LEFT JOIN (SELECT * FROM {table} WHERE {quote(VALID_TO, dialect)} IS NULL) AS {CUR} "
        f"ON {_on(dialect, columns.keys, CUR, SRC)}"
    )
    if columns.updated_at is not None:
        updated = f"{SRC}.{quote(columns.updated_at, dialect)}"
        table_keys = ", ".join(quote(t, dialect) for t, _ in columns.keys)
        last_to = quote("sqlflow_last_valid_to", dialect)
        joins += (
            f" LEFT JOIN (SELECT {table_keys}, MAX({quote(VALID_TO, dialect)}) AS {last_to} FROM {table} "
            f"GROUP BY {table_keys}) AS {HIST} ON {_on(dialect, columns.keys, HIST, SRC)}"
        )
        # a key coming back with an updated_at from before it was closed starts now
        version = (
            f"CASE WHEN {HIST}.{last_to} IS NULL OR {updated} >= {HIST}.{last_to} "
            f"THEN {updated} ELSE {now} END"
        )
        changed = f"{updated} > {CUR}.{quote(UPDATED_AT, dialect)}"
    else:
        version = updated = now
        changed = (
            " OR ".join(
                f"{SRC}.{quote(s, dialect)} IS DISTINCT FROM {CUR}.{quote(t, dialect)}"
                for t, s in columns.checked
            )
            or "1 = 0"
        )
    conditions = [f"{CUR}.{quote(SCD_ID, dialect)} IS NULL", f"({changed})"]
    if hard_deletes_of(node) == "new_record":
        conditions.append(f"{CUR}.{quote(SNAPSHOT_DELETED_COLUMN, dialect)} = 'True'")
    keys = [f"{SRC}.{quote(s, dialect)}" for _, s in columns.keys]
    meta = [
        f"{_scd_id(keys, version)} AS {quote(SCD_ID, dialect)}",
        f"{updated} AS {quote(UPDATED_AT, dialect)}",
        f"{version} AS {quote(VALID_FROM, dialect)}",
    ]
    select = (
        f"SELECT {SRC}.*, {', '.join(meta)} FROM {quote(stage, dialect)} AS {SRC} {joins} "
        f"WHERE {' OR '.join(conditions)}"
    )
    return create_table_as(changes, select, dialect, temporary=True)


def _close_changed(node: ModelNode, ctx: BuildContext, changes: str, columns: _Columns) -> str:
    """Close the current version of every key with a new version: valid until the new one starts."""
    dialect = ctx.adapter.dialect
    on = _on(dialect, columns.keys, TGT, NEW)
    valid_to = quote(VALID_TO, dialect)
    return (
        f"UPDATE {relation_sql(node.relation, dialect)} AS {TGT} SET {valid_to} = "
        f"(SELECT {NEW}.{quote(VALID_FROM, dialect)} FROM {quote(changes, dialect)} AS {NEW} WHERE {on}) "
        f"WHERE {TGT}.{valid_to} IS NULL AND EXISTS (SELECT 1 FROM {quote(changes, dialect)} AS {NEW} "
        f"WHERE {on})"
    )


def _hard_deletes(
    node: ModelNode, ctx: BuildContext, stage: str, columns: _Columns, data_columns: Sequence[str]
) -> list[str]:
    """The statements for the keys gone from the select, per `hard_deletes`."""
    mode = hard_deletes_of(node)
    if mode == "ignore":
        return []
    dialect = ctx.adapter.dialect
    table = relation_sql(node.relation, dialect)
    now = snapshot_time_sql(ctx.snapshot_time, dialect)
    gone = (
        f"{TGT}.{quote(VALID_TO, dialect)} IS NULL AND NOT EXISTS (SELECT 1 FROM {quote(stage, dialect)} "
        f"AS {SRC} WHERE {_on(dialect, columns.keys, TGT, SRC)})"
    )
    close = f"UPDATE {table} AS {TGT} SET {quote(VALID_TO, dialect)} = {now} WHERE {gone}"
    if mode == "invalidate":
        return [close]
    deleted = quote(SNAPSHOT_DELETED_COLUMN, dialect)
    live = f"({TGT}.{deleted} IS NULL OR {TGT}.{deleted} <> 'True')"
    copied = [quote(c, dialect) for c in data_columns]
    keys = [f"{TGT}.{quote(t, dialect)}" for t, _ in columns.keys]
    into = [*copied, *(quote(c, dialect) for c in (SCD_ID, UPDATED_AT, VALID_FROM)), deleted]
    values = [
        *(f"{TGT}.{c}" for c in copied),
        f"{_scd_id(keys, now)}",
        now,
        now,
        "'True'",
    ]
    record = (
        f"INSERT INTO {table} ({', '.join(into)}) SELECT {', '.join(values)} FROM {table} AS {TGT} "
        f"WHERE {gone} AND {live}"
    )
    return [record, f"{close} AND {live}"]


def _insert_changes(node: ModelNode, ctx: BuildContext, changes: str, columns: _Columns) -> str:
    """Insert the new versions staged in `changes`."""
    dialect = ctx.adapter.dialect
    meta = [SCD_ID, UPDATED_AT, VALID_FROM]
    into = [*(quote(t, dialect) for t, _ in columns.pairs), *(quote(m, dialect) for m in meta)]
    select = [*(quote(s, dialect) for _, s in columns.pairs), *(quote(m, dialect) for m in meta)]
    if hard_deletes_of(node) == "new_record":
        into.append(quote(SNAPSHOT_DELETED_COLUMN, dialect))
        select.append("'False'")
    return (
        f"INSERT INTO {relation_sql(node.relation, dialect)} ({', '.join(into)}) "
        f"SELECT {', '.join(select)} FROM {quote(changes, dialect)}"
    )
