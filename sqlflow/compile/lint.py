"""lint: warnings about a compiled project that is valid but probably wrong, e.g. incremental models whose
rows pile up or that re-read everything on every run.

`lint(manifest)` is pure and cheap (a pass over the nodes, no SQL parsing): the CLI prints what it returns.
Imports only `sqlflow.manifest`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlflow.manifest import Manifest, ModelNode, TestNode

CLASSIC_STRATEGIES = frozenset({"append", "merge", "delete+insert"})


@dataclass(frozen=True, slots=True, kw_only=True)
class LintWarning:
    message: str
    path: str  # the model file, relative to the project root
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        """path:line: message (hint)

        >>> str(LintWarning(message="m", path="models/a.sql", line=3, hint="h"))
        'models/a.sql:3: m (h)'
        """
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


def lint(manifest: Manifest) -> tuple[LintWarning, ...]:
    """The compile's own warnings (`metadata["warnings"]`: packages not installed, exceptions.warn), then
    those for every classic incremental model (append, merge, delete+insert), in node order:
    a unique_key column without a not_null test, and SQL without an is_incremental() filter.
    """
    not_null: set[tuple[str, str]] = set()
    incremental: list[ModelNode] = []
    for node in manifest.nodes.values():
        if isinstance(node, TestNode):
            if node.test_name == "not_null" and node.test_type == "generic" and node.column_name:
                not_null.add((node.attached_node or "", node.column_name.lower()))
        elif (
            isinstance(node, ModelNode)
            and node.resource_type == "model"
            and node.config.materialized == "incremental"
            and strategy_name(node) in CLASSIC_STRATEGIES
        ):
            incremental.append(node)
    warnings = [
        LintWarning(message=w["message"], path=w["path"], line=w.get("line"))
        for w in manifest.metadata.get("warnings", ())
    ]
    for node in incremental:
        for key in node.config.unique_key:
            if (node.unique_id, key.lower()) not in not_null:
                warnings.append(
                    LintWarning(
                        message=f"unique_key '{key}' of {node.name} may be null: rows with a null key are "
                        "never matched and pile up",
                        path=node.path,
                        line=_line_of(node.raw_sql, "unique_key"),
                        hint=f"add a not_null test on {node.name}.{key}",
                    )
                )
        if node.incremental_sql is None or node.incremental_sql == node.compiled_sql:
            again = " and appends it again" if strategy_name(node) == "append" else ""
            warnings.append(
                LintWarning(
                    message=f"incremental model {node.name} never filters its input (no is_incremental() "
                    f"block): every run re-reads everything{again}",
                    path=node.path,
                    line=_line_of(node.raw_sql, "incremental"),
                    hint="add {% if is_incremental() %} where ... > (select max(...) from {{ this }}) "
                    "{% endif %}",
                )
            )
    return tuple(warnings)


def strategy_name(node: ModelNode) -> str:
    """The incremental strategy the node will use: its config, else merge with a unique_key, else append."""
    return node.config.incremental_strategy or ("merge" if node.config.unique_key else "append")


def _line_of(text: str, word: str) -> int | None:
    """The 1-based line of `word`'s first occurrence in `text`, or None.

    >>> _line_of("{{ config(\\n  unique_key='id') }}", "unique_key"), _line_of("select 1", "unique_key")
    (2, None)
    """
    at = text.find(word)
    return None if at < 0 else text.count("\n", 0, at) + 1
