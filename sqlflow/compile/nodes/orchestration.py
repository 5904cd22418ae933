"""The compile's checks of what a model's settings say about running it: its orchestration and time-range
settings parsed into the node's typed fields (project/orchestration.py), each error at the line where the
key is set, and a model that reads itself refused as a cycle.

Called once per model when its manifest node is built. Pure Python: no jinja2, no sqlglot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlflow.errors import CycleError, SourceLocation
from sqlflow.manifest import NodeConfig
from sqlflow.project.orchestration import orchestration_settings
from sqlflow.project.types import NodeProperties, Project, SourceFile


class _Rendered(Protocol):
    @property
    def configs(self) -> tuple[tuple[Mapping[str, Any], SourceLocation], ...]: ...


class _Compiled(Protocol):
    @property
    def refs(self) -> tuple[str, ...]: ...


class Draft(Protocol):
    """What these checks read of a compile draft (nodes/drafts.py imports this module, not the reverse)."""

    @property
    def name(self) -> str: ...
    @property
    def file(self) -> SourceFile: ...
    @property
    def line(self) -> int | None: ...
    @property
    def base(self) -> Mapping[str, Any]: ...
    @property
    def properties(self) -> NodeProperties | None: ...
    @property
    def rendered(self) -> _Rendered | None: ...
    @property
    def config(self) -> NodeConfig | None: ...
    @property
    def compiled(self) -> _Compiled | None: ...


def node_settings(draft: Draft, project: Project) -> dict[str, Any]:
    """The typed ModelNode fields of a model, seed or snapshot (retry, timeout_seconds, time_range)."""
    refuse_reading_itself(draft)
    assert draft.config is not None
    settings = orchestration_settings(
        draft.config, name=draft.name, pools=project.pools, locate=key_locator(project, draft)
    )
    return {
        "retry": settings.retry,
        "timeout_seconds": settings.timeout_seconds,
        "time_range": settings.time_range,
    }


def refuse_reading_itself(draft: Draft) -> None:
    """CycleError when a model ref()s itself, as dbt refuses it (in any branch: the refs of both renders of
    an incremental model count). `{{ this }}` is no ref; a plain own name is refused by the analysis."""
    if draft.compiled is not None and draft.name in draft.compiled.refs:
        step = f"{draft.name} ({draft.file.path})"
        raise CycleError(
            f"cycle: {step} -> {step}",
            location=SourceLocation(draft.file.path),
            hint="a model cannot read itself; an incremental model reads its own table as {{ this }}",
        )


def key_locator(project: Project, draft: Draft) -> Callable[[str], SourceLocation]:
    """Where a config key of `draft` is set: its last config() call setting it, its property YAML, the line
    of sqlflow.yml writing it; else its file (a key set nowhere: an error about what is missing)."""

    def locate(key: str) -> SourceLocation:
        for config, location in reversed(draft.rendered.configs if draft.rendered else ()):
            if key in config:
                return location
        props = draft.properties
        if props is not None and key in props.config:
            return SourceLocation(props.path, props.config_lines.get(key, props.line))
        if key in draft.base:
            path, shown = project.root / project.config_file, project.config_file
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            return _line_of(text, shown, key)
        return SourceLocation(draft.file.path, draft.line)

    return locate


def _line_of(text: str, shown: str, key: str) -> SourceLocation:
    """The first line of sqlflow.yml writing `key:` (or `+key:`, `key-with-dashes:`), else the file."""
    spellings = (f"{key}:", f"{key.replace('_', '-')}:")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip().lstrip("+")
        if stripped.startswith(spellings):
            return SourceLocation(shown, number)
    return SourceLocation(shown)
