"""Preparing the database for a run, with one catalog query: drop the leftovers of a killed run
(`*__sqlflow_tmp`), create the missing schemas, and return what exists. Imports no driver.
"""

from __future__ import annotations

from sqlflow.adapters import TMP_SUFFIX, Adapter, Catalog
from sqlflow.adapters.sql import create_schema, drop_relation
from sqlflow.manifest import Relation
from sqlflow.runner.plan import Step


def prepare_database(adapter: Adapter, steps: tuple[Step, ...]) -> Catalog:
    """Drop leftovers of a killed run (`*__sqlflow_tmp`), create missing schemas; what exists after."""
    catalog = adapter.list_relations()
    fold = adapter.case_insensitive_identifiers
    relations = dict(catalog.relations)
    for (schema, identifier), kind in sorted(catalog.relations.items()):
        if identifier.lower().endswith(TMP_SUFFIX):
            rel = Relation(database=None, schema=schema, identifier=identifier)
            adapter.execute(drop_relation(rel, kind, adapter.dialect))
            del relations[(schema, identifier)]

    def folded(schema: str) -> str:
        return schema.lower() if fold else schema

    existing = {folded(s) for s in catalog.schemas}
    schemas = set(catalog.schemas)
    for schema in sorted({step.relation.schema for step in steps if step.relation is not None}):
        if folded(schema) not in existing:
            adapter.execute(create_schema(schema, adapter.dialect))
            existing.add(folded(schema))
            schemas.add(schema)
    return Catalog(schemas=frozenset(schemas), relations=relations)


__all__ = ["prepare_database"]
