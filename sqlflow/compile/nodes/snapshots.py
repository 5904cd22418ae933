"""Snapshots at compile time: the `{% snapshot name %} ... {% endsnapshot %}` blocks of a file split into
one template each (padded so that every line keeps its number in the file), and the checks of a
snapshot's config (unique_key, strategy, updated_at / check_cols) naming the file:line to fix.

A file without a block is one snapshot (dbt 1.9's YAML form): its text is the select, its stem the name.
Pure; imports neither jinja2 nor sqlglot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

from sqlflow.compile.nodes.configs import Naming, relation_for
from sqlflow.errors import ConfigError, SourceLocation, TemplateError
from sqlflow.manifest import SNAPSHOT_DELETED_COLUMN, SNAPSHOT_META_COLUMNS, NodeConfig, Relation
from sqlflow.project.types import SourceFile, Target

_START = re.compile(r"{%-?\s*snapshot\b(?P<rest>.*?)-?%}", re.DOTALL)
_NAME = re.compile(r"\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*")
_END = re.compile(r"{%-?\s*endsnapshot\s*-?%}")

_EXAMPLES = {
    "unique_key": "the column(s) naming a row, e.g. unique_key='id'",
    "strategy": "strategy='timestamp' with updated_at, or strategy='check' with check_cols",
    "updated_at": "the column saying when a row last changed, e.g. updated_at='updated_at'",
    "check_cols": "the columns compared between runs, e.g. check_cols=['status', 'email'] or 'all'",
}


@dataclass(frozen=True, slots=True)
class Block:
    """One snapshot of a file."""

    name: str
    line: int  # of the `{% snapshot %}` tag; 1 for a file without blocks
    file: SourceFile  # the path of the file, the text of the block's body only (padded)
    raw: str  # the body as written


def split_snapshots(file: SourceFile) -> list[Block]:
    """The snapshots of a file: one per `{% snapshot %}` block, else the file itself, named by its stem.

    >>> f = SourceFile(path="snapshots/s.sql", abs_path=None, text="-- x\\n{% snapshot a %}\\nselect 1\\n"
    ...     "{% endsnapshot %}\\n", checksum="0")
    >>> [(b.name, b.line, b.raw) for b in split_snapshots(f)]
    [('a', 2, '\\nselect 1\\n')]
    >>> split_snapshots(f)[0].file.text.splitlines()[2]  # line 3 of the file
    'select 1'
    """
    text = file.text
    if _START.search(text) is None:
        if (end := _END.search(text)) is not None:
            raise TemplateError(
                "{% endsnapshot %} without a {% snapshot %} block",
                location=SourceLocation(file.path, _line(text, end.start())),
            )
        name = file.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return [Block(name, 1, file, text)]
    blocks: list[Block] = []
    seen: dict[str, int] = {}
    pos = 0
    while (start := _START.search(text, pos)) is not None:
        line = _line(text, start.start())
        where = SourceLocation(file.path, line)
        named = _NAME.fullmatch(start.group("rest"))
        if named is None:
            raise TemplateError(
                "a snapshot block needs one name: {% snapshot my_snapshot %}",
                location=where,
            )
        name = named.group("name")
        end = _END.search(text, start.end())
        nested = _START.search(text, start.end())
        if end is None or (nested is not None and nested.start() < end.start()):
            raise TemplateError(
                f"snapshot block '{name}' has no {{% endsnapshot %}}",
                location=where,
                hint="close each block before the next one starts",
            )
        if name in seen:
            raise TemplateError(
                f"snapshot '{name}' is defined twice in this file",
                location=where,
                hint=f"the other block starts on line {seen[name]}; rename one of them",
            )
        seen[name] = line
        body = text[start.end() : end.start()]
        before = text[: start.end()]
        padded = "\n" * before.count("\n") + " " * (len(before) - before.rfind("\n") - 1) + body
        digest = hashlib.sha256(f"{file.checksum}\x00{name}".encode()).hexdigest()
        block_file = dataclasses.replace(file, text=padded, checksum=digest)
        blocks.append(Block(name, line, block_file, body))
        pos = end.end()
    if (stray := _END.search(text, pos)) is not None:
        raise TemplateError(
            "{% endsnapshot %} without a {% snapshot %} block",
            location=SourceLocation(file.path, _line(text, stray.start())),
        )
    return blocks


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def snapshot_config(config: NodeConfig, *, name: str, where: SourceLocation) -> NodeConfig:
    """`config` checked for what a snapshot needs, `hard_deletes` settled (dbt's older
    `invalidate_hard_deletes: true` is `invalidate`, the default `ignore`) and `target_database` as the
    database. A ConfigError at `where` (the config() call, the property entry or the block) names what
    is missing."""

    def missing(key: str, message: str) -> ConfigError:
        return ConfigError(f"snapshot '{name}' {message}", location=where, hint="set " + _EXAMPLES[key])

    if not config.unique_key:
        raise missing("unique_key", "needs a unique_key")
    if config.strategy is None:
        raise missing("strategy", "needs a strategy")
    if config.strategy == "timestamp" and not config.updated_at:
        raise missing("updated_at", "uses the timestamp strategy and needs updated_at")
    if config.strategy == "check":
        if not config.check_cols:
            raise missing("check_cols", "uses the check strategy and needs check_cols")
        if "all" in config.check_cols and len(config.check_cols) > 1:
            raise ConfigError(
                f"snapshot '{name}' has check_cols 'all' beside other columns",
                location=where,
                hint="write check_cols='all', or list the columns",
            )
    hard_deletes = config.hard_deletes or ("invalidate" if config.invalidate_hard_deletes else "ignore")
    return dataclasses.replace(
        config,
        materialized="snapshot",
        hard_deletes=hard_deletes,
        database=config.target_database or config.database,
    )


def snapshot_relation(
    name: str, config: NodeConfig, target: Target, naming: Naming | None = None
) -> Relation:
    """Where a snapshot lives: dbt's older `target_schema` names the schema as it is; otherwise `schema`
    works as for models (`<target schema>_<schema>`, or the project's generate_schema_name)."""
    relation = relation_for(name, config, target, naming)
    if config.target_schema:
        relation = dataclasses.replace(relation, schema=config.target_schema)
    return relation


def snapshot_columns(config: NodeConfig) -> tuple[str, ...]:
    """The columns a snapshot adds to its select."""
    if config.hard_deletes == "new_record":
        return (*SNAPSHOT_META_COLUMNS, SNAPSHOT_DELETED_COLUMN)
    return SNAPSHOT_META_COLUMNS
