"""dbt's `on-run-start` and `on-run-end` of the project file: SQL (with Jinja) run once before the first
node and once after the last of a run, build, seed, snapshot, test or backfill. Read here with their
lines; the run session renders and runs them. Imports only errors and yamlfile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlflow.project.yamlfile import expect_str_list, item_location, key_location

HOOK_KEYS = ("on-run-start", "on-run-end")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunHook:
    """One hook statement as written (Jinja not rendered), and where."""

    sql: str
    path: str
    line: int | None


def read_run_hooks(shown: str, doc: Mapping[str, Any], key: str) -> tuple[RunHook, ...]:
    """The hooks of `key` (`on-run-start` or `on-run-end`): a string or a list of strings."""
    texts = expect_str_list(shown, doc, key, "") or ()
    raw = doc.get(key)
    hooks = []
    for index, text in enumerate(texts):
        where = item_location(shown, raw, index) if isinstance(raw, list) else key_location(shown, doc, key)
        if text.strip():
            hooks.append(RunHook(sql=text, path=shown, line=where.line))
    return tuple(hooks)
