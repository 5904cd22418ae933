"""The PostgreSQL adapter: psycopg 3, one connection (session) per thread, autocommit with explicit BEGIN.

The only module of sqlflow that imports psycopg; `sqlflow.adapters.open_adapter` loads it by name for a
`type: postgres` target (the `postgres` extra). Connection failures become one message naming the host,
the port and what to check; a connection the server dropped (a terminated backend, a restart) is
replaced on the thread's next statement.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any, ClassVar

import psycopg

from sqlflow.adapters.base import Adapter, Catalog, RelationType, explicit_transaction, first_line
from sqlflow.engines import ENGINES, EngineSpec
from sqlflow.errors import AdapterError, ConfigError
from sqlflow.manifest import Relation
from sqlflow.project.types import Target

_CATALOG_SQL = """
select nspname, null, null from pg_namespace
where nspname not like 'pg\\_%' and nspname <> 'information_schema'
union all
select n.nspname, c.relname, case when c.relkind in ('v', 'm') then 'VIEW' else 'TABLE' end
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'v', 'm', 'p', 'f')
  and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
"""

# keys of a postgres output in profiles.yml, besides type/schema/threads/dbname (read by the profile loader)
CONNECT_KEYS = ("host", "port", "user", "password", "sslmode", "connect_timeout", "application_name")
KNOWN_KEYS = frozenset(
    {
        *CONNECT_KEYS,
        "pass",
        "keepalives_idle",
        "search_path",
        "role",
        "state_schema",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "options",
    }
)
DEFAULT_CONNECT_TIMEOUT = 10

# arrow type -> PostgreSQL column type, for load_arrow (seeds, files read by models)
_ARROW_TYPES = (
    ("bool", "boolean"),
    ("int8", "smallint"),
    ("int16", "smallint"),
    ("int32", "integer"),
    ("int64", "bigint"),
    ("uint8", "smallint"),
    ("uint16", "integer"),
    ("uint32", "bigint"),
    ("uint64", "numeric"),
    ("halffloat", "real"),
    ("float", "real"),
    ("double", "double precision"),
    ("date32[day]", "date"),
    ("date64[ms]", "date"),
    ("string", "text"),
    ("large_string", "text"),
    ("null", "text"),
)


class PostgresAdapter:
    """A PostgreSQL database; each thread gets its own connection on first use."""

    spec: ClassVar[EngineSpec] = ENGINES["postgres"]  # the engine's facts, read from the one table
    type: ClassVar[str] = spec.name
    dialect: ClassVar[str] = spec.dialect
    supports_merge: ClassVar[bool] = True  # set per server version in __init__
    replace_table_atomically: ClassVar[bool] = spec.replace_table_atomically
    replace_view: ClassVar[bool] = spec.replace_view
    reads_csv_in_sql: ClassVar[bool] = spec.reads_files_in_sql
    case_insensitive_identifiers: ClassVar[bool] = spec.case_insensitive_identifiers

    def __init__(self, target: Target) -> None:
        settings = dict(target.settings)
        unknown = sorted(set(settings) - KNOWN_KEYS - {"type"})
        if unknown:
            from sqlflow.errors import did_you_mean

            raise ConfigError(
                f"unknown key '{unknown[0]}' in postgres target '{target.name}'",
                hint=did_you_mean(unknown[0], sorted(KNOWN_KEYS)) or "keys: " + ", ".join(CONNECT_KEYS),
            )
        self.host = str(settings.get("host") or "localhost")
        self.port = int(settings.get("port") or 5432)
        self.user = settings.get("user")
        self.dbname = target.database or "postgres"
        self.schema = target.schema
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "connect_timeout": int(settings.get("connect_timeout") or DEFAULT_CONNECT_TIMEOUT),
            "application_name": str(settings.get("application_name") or "sqlflow"),
            "autocommit": True,
        }
        if self.user:
            params["user"] = str(self.user)
        password = settings.get("password", settings.get("pass"))
        if password:
            params["password"] = str(password)
        for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "options", "keepalives_idle"):
            if settings.get(key) is not None:
                params[key] = settings[key]
        search_path = settings.get("search_path")
        role = settings.get("role")
        self._setup = [f"SET search_path TO {search_path}"] if search_path else []
        self._setup += [f"SET ROLE {_identifier(str(role))}"] if role else []
        self._params = params
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False
        first = self._connection()  # fail now, with a clear message, if the server cannot be reached
        self.server_version = first.info.server_version
        self.supports_merge = self.server_version >= 150000  # type: ignore[misc]

    # -- sessions ------------------------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            con = psycopg.connect(**self._params)
        except psycopg.OperationalError as exc:
            raise self._connect_error(exc) from None
        for statement in self._setup:
            con.execute(statement)
        return con

    def _connect_error(self, exc: psycopg.Error) -> AdapterError:
        text = first_line(str(exc))
        where = f"{self.host}:{self.port}"
        low = text.lower()
        if "password" in low or "authentication" in low:
            hint = "check user and password in profiles.yml (password: \"{{ env_var('PGPASSWORD') }}\")"
        elif "does not exist" in low and "database" in low:
            hint = f"create the database ({self.dbname}) or fix dbname in profiles.yml"
        elif "timeout" in low or "refused" in low or "could not connect" in low or "translate host" in low:
            hint = "check that the server runs and listens there (host, port, firewall, sslmode)"
        else:
            hint = "check host, port, dbname, user and sslmode in profiles.yml"
        return AdapterError(
            f"cannot connect to PostgreSQL at {where} (database {self.dbname}): {text}", hint=hint
        )

    def _connection(self) -> psycopg.Connection[Any]:
        con: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if con is not None and con.closed:
            self._forget(con)
            con = None
        if con is None:
            if self._closed:
                raise AdapterError(f"the connection to {self.host}:{self.port} is closed")
            con = self._connect()
            self._local.connection = con
            with self._lock:
                self._connections.append(con)
        return con

    def _forget(self, con: psycopg.Connection[Any]) -> None:
        self._local.connection = None
        with self._lock, suppress(ValueError):
            self._connections.remove(con)

    # -- statements ----------------------------------------------------------------------------------------

    def execute(self, sql: str) -> int | None:
        con = self._connection()
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                status = cur.statusmessage or ""
                if status.split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "COPY"):
                    return cur.rowcount if cur.rowcount >= 0 else None
                return None
        except psycopg.Error as exc:
            raise self._statement_error(con, exc) from exc

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        con = self._connection()
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                columns = [d.name for d in cur.description or ()]
                return columns, cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise self._statement_error(con, exc) from exc

    def fetch_arrow(self, sql: str) -> Any:
        import pyarrow as pa

        columns, rows = self.fetch(sql)
        return pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})

    def load_arrow(self, relation: Relation, data: Any) -> int:
        """Replace `relation` by a table of the Arrow table's rows, loaded with COPY, in one transaction."""
        import pyarrow.csv as pacsv

        target = f"{_identifier(relation.schema)}.{_identifier(relation.identifier)}"
        columns = ", ".join(f"{_identifier(field.name)} {_pg_type(field.type)}" for field in data.schema)
        buffer = io.BytesIO()
        pacsv.write_csv(data, buffer, write_options=pacsv.WriteOptions(include_header=False))
        con = self._connection()
        nested = con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        try:
            with nullcontext() if nested else self.transaction(), con.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {target}")
                cur.execute(f"CREATE TABLE {target} ({columns})")
                names = ", ".join(_identifier(f.name) for f in data.schema)
                with cur.copy(f"COPY {target} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
        except psycopg.Error as exc:
            raise self._statement_error(con, exc) from exc
        return int(data.num_rows)

    def _statement_error(self, con: psycopg.Connection[Any], exc: psycopg.Error) -> AdapterError:
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return AdapterError("interrupted")
        if con.closed or (isinstance(exc, psycopg.OperationalError) and con.broken):
            self._forget(con)  # the next statement on this thread opens a new connection
        return AdapterError(first_line(str(exc)))

    # -- catalog -------------------------------------------------------------------------------------------

    def list_relations(self) -> Catalog:
        _, rows = self.fetch(_CATALOG_SQL)
        schemas = frozenset(schema for schema, name, _ in rows if name is None)
        relations: dict[tuple[str, str], RelationType] = {
            (schema, name): "view" if kind == "VIEW" else "table" for schema, name, kind in rows if name
        }
        return Catalog(schemas=schemas, relations=relations)

    def relation_type(self, relation: Relation) -> RelationType | None:
        _, rows = self.fetch(
            "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            f"where n.nspname = {_literal(relation.schema)} and c.relname = {_literal(relation.identifier)}"
        )
        if not rows:
            return None
        return "view" if rows[0][0] in ("v", "m") else "table"

    def relation_exists(self, relation: Relation) -> bool:
        return self.relation_type(relation) is not None

    def dependent_views(self, relation: Relation) -> list[tuple[Relation, str, bool]]:
        """Every view (and materialized view) built on `relation`, directly or through other views, in the
        order they can be created again."""
        name = _literal(f"{_identifier(relation.schema)}.{_identifier(relation.identifier)}")
        if self.relation_type(relation) is None:
            return []
        _, rows = self.fetch(
            f"""
            with recursive deps(oid, depth) as (
                select distinct r.ev_class, 1 from pg_depend d join pg_rewrite r on r.oid = d.objid
                where d.refobjid = {name}::regclass and r.ev_class <> d.refobjid
                union
                select distinct r.ev_class, deps.depth + 1 from deps
                join pg_depend d on d.refobjid = deps.oid join pg_rewrite r on r.oid = d.objid
                where r.ev_class <> d.refobjid and deps.depth < 100
            )
            select n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid), max(deps.depth)
            from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
            group by n.nspname, c.relname, c.relkind, c.oid
            order by max(deps.depth), n.nspname, c.relname
            """
        )
        return [
            (Relation(database=self.dbname, schema=s, identifier=v), str(sql).rstrip().rstrip(";"), bool(m))
            for s, v, m, sql, _ in rows
        ]

    # -- transactions and lifetime -------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        return explicit_transaction(self.execute, self._rollback_quietly, "BEGIN")

    def _rollback_quietly(self) -> None:
        con = getattr(self._local, "connection", None)
        if con is None or con.closed:
            return
        with suppress(psycopg.Error):
            con.execute("ROLLBACK")

    def canceller(self) -> Callable[[], None]:
        con = self._connection()

        def cancel() -> None:
            with suppress(psycopg.Error):
                con.cancel_safe(timeout=2.0)

        return cancel

    def interrupt(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for con in connections:
            with suppress(psycopg.Error):
                con.cancel_safe(timeout=2.0)

    def backend_pids(self) -> list[int]:
        """The server process ids of this adapter's connections (for tests and diagnostics)."""
        with self._lock:
            return [con.info.backend_pid for con in self._connections if not con.closed]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            connections, self._connections = self._connections, []
        for con in connections:
            with suppress(psycopg.Error):
                con.close()

    def __repr__(self) -> str:
        return f"<PostgresAdapter {self.host}:{self.port}/{self.dbname}>"


def open_adapter(target: Target) -> Adapter:
    """The entry point `sqlflow.adapters.open_adapter` calls (and mypy checks the protocol here)."""
    return PostgresAdapter(target)


def _pg_type(arrow_type: Any) -> str:
    text = str(arrow_type)
    for name, pg in _ARROW_TYPES:
        if text == name:
            return pg
    if text.startswith("timestamp"):
        return "timestamp with time zone" if "tz=" in text else "timestamp"
    if text.startswith("decimal"):
        return "numeric"
    if text.startswith("time"):
        return "time"
    return "text"


def _identifier(name: str) -> str:
    return PostgresAdapter.spec.quote(name)


def _literal(value: str) -> str:
    return PostgresAdapter.spec.string_literal(value)
