"""Names -> nodes: the Lookup that resolves ref(), source() and the plain table names of a query to unique
ids, and how a node is named in SQL (what ref() prints, an ephemeral model's CTE name).

Pure functions and plain data; imports nothing from sqlflow.compile, neither jinja2 nor sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlflow.engines import quote_identifier
from sqlflow.errors import SourceLocation, UnknownRefError, did_you_mean
from sqlflow.manifest import Relation
from sqlflow.project.types import Target

EPHEMERAL_PREFIX = "__sqlflow_ephemeral_"
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def render_relation(
    relation: Relation, *, include_database: bool, quoting: Mapping[str, bool] | None = None
) -> str:
    """`relation` as ref() prints it: quoted parts (but those `quoting:` turns off), the database when asked.

    >>> rel = Relation(database="dev", schema="main", identifier="orders")
    >>> render_relation(rel, include_database=True, quoting={"identifier": False})
    '"dev"."main".orders'
    """
    if not quoting:
        return relation.render(include_database=include_database)
    parts = [("schema", relation.schema), ("identifier", relation.identifier)]
    if include_database and relation.database:
        parts.insert(0, ("database", relation.database))
    return ".".join(p if quoting.get(kind, True) is False else quote_identifier(p) for kind, p in parts)


def ephemeral_cte(name: str) -> str:
    """The CTE name an ephemeral model is inlined as, quoted when it is not a plain lower-case name."""
    cte = EPHEMERAL_PREFIX + name
    return cte if _PLAIN_NAME.match(cte) else quote_identifier(cte)


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a name resolves to: a model, seed or source, with what ref() and source() print for it."""

    unique_id: str
    name: str
    relation: Relation
    ephemeral: bool
    ref_text: str  # what ref()/source() print
    include_database: bool = False  # the database is named (set explicitly, not the target's)
    incremental: bool = False  # an incremental model: its own plain name in its SQL reads its table (`this`)


def resolved(
    unique_id: str,
    name: str,
    relation: Relation,
    *,
    ephemeral: bool,
    database: str | None,
    target: Target,
    dbt_names: bool = False,
    quoting: Mapping[str, bool] | None = None,
    incremental: bool = False,
) -> Resolved:
    """How a node is named in SQL; `database` is the one its config or source declares, if any. In a dbt
    project (`dbt_names`) the database is always named, as dbt-duckdb prints `"db"."schema"."name"`."""
    explicit = (database is not None and database != target.database) or (
        dbt_names and bool(relation.database)
    )
    text = (
        ephemeral_cte(name)
        if ephemeral
        else render_relation(relation, include_database=explicit, quoting=quoting)
    )
    return Resolved(unique_id, name, relation, ephemeral, text, explicit, incremental=incremental)


class Lookup:
    """Resolves ref('x'), source('s', 't') and plain table names (`x`, `schema.x`, `db.schema.x`)."""

    def __init__(
        self,
        project_name: str,
        nodes: Iterable[Resolved],
        sources: Iterable[tuple[str, str, Resolved]],
        disabled: Mapping[str, str] | None = None,
    ) -> None:
        self.project_name = project_name
        self.by_uid: dict[str, Resolved] = {}
        self.by_name: dict[str, Resolved] = {}
        self._by_lower: dict[str, Resolved] = {}
        self._by_relation: dict[tuple[str, str], Resolved] = {}
        self._by_cte: dict[str, Resolved] = {}
        self.sources: dict[tuple[str, str], Resolved] = {}
        self.disabled = dict(disabled or {})  # name -> path of models/seeds turned off
        for node in nodes:
            self.by_uid[node.unique_id] = node
            self.by_name[node.name] = node
            self._by_lower.setdefault(node.name.lower(), node)
            if node.ephemeral:
                self._by_cte[(EPHEMERAL_PREFIX + node.name).lower()] = node
            else:
                key = (node.relation.schema.lower(), node.relation.identifier.lower())
                self._by_relation.setdefault(key, node)
        for source_name, table, node in sources:
            self.by_uid[node.unique_id] = node
            self.sources[(source_name, table)] = node
            key = (node.relation.schema.lower(), node.relation.identifier.lower())
            self._by_relation.setdefault(key, node)

    def ref(self, args: tuple[str, ...], location: SourceLocation) -> Resolved:
        name = args[-1]
        if len(args) == 2 and args[0] != self.project_name:
            raise UnknownRefError(
                f"unknown package '{args[0]}' in ref('{args[0]}', '{name}')",
                location=location,
                hint=f"the project is '{self.project_name}'; packages are not supported",
            )
        found = self.by_name.get(name)
        if found is not None:
            return found
        if name in self.disabled:
            raise UnknownRefError(
                f"ref '{name}' names a disabled model",
                location=location,
                hint=f"{self.disabled[name]} has enabled: false",
            )
        raise UnknownRefError(
            f"unknown ref '{name}'", location=location, hint=did_you_mean(name, self.by_name)
        )

    def source(self, args: tuple[str, ...], location: SourceLocation) -> Resolved:
        source_name, table = args
        found = self.sources.get((source_name, table))
        if found is not None:
            return found
        tables = [t for s, t in self.sources if s == source_name]
        if tables:
            raise UnknownRefError(
                f"unknown table '{table}' in source '{source_name}'",
                location=location,
                hint=did_you_mean(table, tables),
            )
        raise UnknownRefError(
            f"unknown source '{source_name}'",
            location=location,
            hint=did_you_mean(source_name, {s for s, _ in self.sources}),
        )

    def table(self, parts: tuple[str, str, str]) -> Resolved | None:
        """The node a table name of a query names: (catalog, db, name) as written, '' when absent."""
        catalog, db, name = (p.lower() for p in parts)
        if not db:
            return self._by_cte.get(name) or self._by_lower.get(name)
        found = self._by_relation.get((db, name))
        if found is None or (catalog and catalog != (found.relation.database or "").lower()):
            return None
        return found
