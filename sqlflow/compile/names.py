"""Names -> nodes: relations by dbt's schema rule, config merging, and the lookup tables that resolve
ref(), source() and the plain table names of a query to unique ids.

Pure functions and plain data; imports neither jinja2 nor sqlglot (a cache hit needs neither).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, UnknownRefError, did_you_mean
from sqlflow.manifest import CONFIG_KEYS, NodeConfig, Relation
from sqlflow.project.types import Target

EPHEMERAL_PREFIX = "__sqlflow_ephemeral_"
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def has_jinja(text: str) -> bool:
    """Whether `text` needs Jinja at all (the fast path skips it)."""
    return "{{" in text or "{%" in text or "{#" in text


def node_config(merged: Mapping[str, Any], **forced: Any) -> NodeConfig:
    values = {k: v for k, v in merged.items() if k in CONFIG_KEYS}
    values.update(forced)
    return NodeConfig(**values)


# A project's own naming macro: `{% macro generate_schema_name(custom_schema_name, node) %}` (or its
# dispatched `default__` / `<adapter>__` form) replaces dbt's default rule for that part of the name
_NAMING_MACRO = re.compile(r"{%-?\s*macro\s+(?:\w+__)?generate_(schema|alias|database)_name\s*\(")
# (part, the custom value configured or None) -> the name the project's macro gives
Naming = Callable[[str, str | None], str]


def custom_naming(macro_texts: Iterable[str]) -> frozenset[str]:
    """The parts ("schema", "alias", "database") whose naming macro the project overrides.

    >>> sorted(custom_naming(["{% macro generate_schema_name(custom_schema_name, node) %}x{% endmacro %}"]))
    ['schema']
    """
    return frozenset(
        m.group(1) for text in macro_texts if "generate_" in text for m in _NAMING_MACRO.finditer(text)
    )


def relation_for(name: str, config: NodeConfig, target: Target, naming: Naming | None = None) -> Relation:
    """dbt's naming: schema `s` -> `<target schema>_s`, alias -> identifier, database from the target;
    `naming` gives the parts a project's own generate_*_name macros name (it returns None for the others).
    """
    schema = f"{target.schema}_{config.schema.strip()}" if config.schema else target.schema
    database, identifier = config.database or target.database, config.alias or name
    if naming is not None:
        schema = naming("schema", config.schema) or schema
        identifier = naming("alias", config.alias) or identifier
        database = naming("database", config.database) or database
    return Relation(database=database, schema=schema, identifier=identifier)


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
    return ".".join(
        p if quoting.get(kind, True) is False else '"' + p.replace('"', '""') + '"' for kind, p in parts
    )


def ephemeral_cte(name: str) -> str:
    """The CTE name an ephemeral model is inlined as, quoted when it is not a plain lower-case name."""
    cte = EPHEMERAL_PREFIX + name
    return cte if _PLAIN_NAME.match(cte) else '"' + cte.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a name resolves to: a model, seed or source, with what ref() and source() print for it."""

    unique_id: str
    name: str
    relation: Relation
    ephemeral: bool
    ref_text: str  # what ref()/source() print
    include_database: bool = False  # the database is named (set explicitly, not the target's)


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
    return Resolved(unique_id, name, relation, ephemeral, text, explicit)


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


def check_properties(kind: str, properties: Mapping[str, Any], names: Iterable[str]) -> None:
    """ConfigError when property YAML describes a model or seed that has no file."""
    known = set(names)
    for name, props in sorted(properties.items(), key=lambda item: (item[1].path, item[1].line or 0)):
        if name not in known:
            raise ConfigError(
                f"unknown {kind} '{name}'",
                location=SourceLocation(props.path, props.line),
                hint=did_you_mean(name, known),
            )


def folders_of(path: str, roots: Iterable[str]) -> tuple[str, ...]:
    """The folders of `path` below the first of `roots` holding it: models/a/b/x.sql -> (a, b)."""
    for root in roots:
        prefix = os.path.normpath(root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        if path.startswith(prefix):
            return tuple(path[len(prefix) :].split("/")[:-1])
    return tuple(path.split("/")[:-1])
