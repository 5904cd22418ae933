"""A node's config and relation: the merged config as a NodeConfig (the keys manifest.CONFIG_KEYS names),
and dbt's naming rule for its relation, or the parts a project names with its own generate_*_name macros.

Add a new config key to manifest.NodeConfig (and CONFIG_KEYS); check its value here or where it is
settled (settling.py). Pure functions; imports neither jinja2 nor sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlflow.manifest import CONFIG_KEYS, NodeConfig, Relation
from sqlflow.project.types import Target


def node_config(merged: Mapping[str, Any], **forced: Any) -> NodeConfig:
    """A NodeConfig of a merged config; the keys sqlflow does not know go to `extra`, as dbt keeps them."""
    values = {k: v for k, v in merged.items() if k in CONFIG_KEYS}
    extra = {k: v for k, v in merged.items() if k not in CONFIG_KEYS}
    values.update(forced)
    return NodeConfig(**values, extra=extra) if extra else NodeConfig(**values)


# A project's own naming macro: `{% macro generate_schema_name(custom_schema_name, node) %}` (or its
# dispatched `default__` / `<adapter>__` form) replaces dbt's default rule for that part of the name
_NAMING_MACRO = re.compile(r"{%-?\s*macro\s+(?:\w+__)?generate_(schema|alias|database)_name\s*\(")
# (part, the custom value configured or None) -> the name the project's macro gives (None: dbt's rule)
Naming = Callable[[str, str | None], str | None]


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
