"""How each kind of node becomes a relation: the SQL steps of view, table, incremental, seed and snapshot.

`materialize(node, ctx)` picks the materialization by the node's kind and runs its steps on `ctx.adapter`;
`materialize_audited(node, ctx, audit)` does the same inside one transaction and publishes only when the
audit of the staged relation passes (write-audit-publish). Ephemeral models have no steps (the compiler
inlines them). Engine differences are read from the adapter's
capability flags; no driver is imported here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from sqlflow.errors import NodeFailedError, did_you_mean
from sqlflow.manifest import ModelNode
from sqlflow.materializations.context import BuildContext, BuildResult, RelationCache
from sqlflow.materializations.incremental import build_incremental
from sqlflow.materializations.seed import build_seed
from sqlflow.materializations.snapshot import build_snapshot
from sqlflow.materializations.table import build_table
from sqlflow.materializations.view import build_view

Materializer = Callable[[ModelNode, BuildContext], BuildResult]

MATERIALIZERS: Mapping[str, Materializer] = {
    "view": build_view,
    "table": build_table,
    "incremental": build_incremental,
    "seed": build_seed,
    "snapshot": build_snapshot,
}


def materialize(node: ModelNode, ctx: BuildContext) -> BuildResult:
    """Build `node`'s relation; raises AdapterError (the engine refused) or NodeFailedError (bad config)."""
    kind = node.build_kind
    if kind == "ephemeral":
        return BuildResult(None, "EPHEMERAL (inlined)")
    build = MATERIALIZERS.get(kind)
    if build is None:
        raise NodeFailedError(
            f"unknown materialization '{kind}' for {node.name}",
            hint=did_you_mean(kind, [*MATERIALIZERS, "ephemeral"]) or "use " + ", ".join(MATERIALIZERS),
        )
    return build(node, ctx)


class AuditFailedError(NodeFailedError):
    """The audit of a staged relation failed; the build was rolled back."""


def materialize_audited(
    node: ModelNode,
    ctx: BuildContext,
    audit: Callable[[], str | None],
    record: Callable[[BuildResult], None] | None = None,
) -> BuildResult:
    """Build `node` inside one transaction on this thread's session, call `audit()` in it (it sees the
    staged relation, nobody else does), then commit when it returns None. When it returns a message, roll
    back and raise AuditFailedError(message): the previous table and its rows, or the previous view
    definition, stay exactly as they were. The relation cache follows what the database holds.
    `record(result)` runs last inside the transaction (the run history lands with the data or not at all).
    """
    before = ctx.relations.get(node.relation)
    staged = dataclasses.replace(ctx, in_transaction=True)
    try:
        with ctx.adapter.transaction():
            built = materialize(node, staged)
            failure = audit()
            if failure is not None:
                raise AuditFailedError(failure)
            if record is not None:
                record(built)
    except BaseException:
        ctx.relations.set(node.relation, before)
        raise
    return built


__all__ = [
    "MATERIALIZERS",
    "AuditFailedError",
    "BuildContext",
    "BuildResult",
    "RelationCache",
    "materialize",
    "materialize_audited",
]
