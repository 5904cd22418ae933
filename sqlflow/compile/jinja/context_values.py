"""What a template sees besides Jinja itself: the ref()/source() call records and render result, the
RelationRef that ref(), source() and `this` return, the BatchBound `start`/`end` of a time-range batch,
the per-render state and the `config` object. Pure Python: no jinja2 (templating.py owns it), no sqlglot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from sqlflow.errors import SourceLocation, TemplateError
from sqlflow.manifest import Relation
from sqlflow.project.config import Warn, normalise_config


@dataclass(frozen=True, slots=True)
class Call:
    """One ref()/source() call: `args` as written, where it was made."""

    args: tuple[str, ...]
    location: SourceLocation


@dataclass(slots=True)
class RenderResult:
    """The rendered SQL and what the template asked for while rendering."""

    sql: str
    refs: list[Call] = field(default_factory=list)
    sources: list[Call] = field(default_factory=list)
    configs: list[tuple[dict[str, Any], SourceLocation]] = field(default_factory=list)
    env_reads: dict[str, str | None] = field(default_factory=dict)
    needs_relations: bool = False  # ref()/source()/this were used: a pass-1 text is not final
    # execute, run_query, flags or graph were used: the text may change from run to run, never cache it
    uncacheable: bool = False
    queried: bool = False  # execute / run_query / statement were used: render it again just before it runs


class RelationRef:
    """What ref(), source() and `this` return: prints as the relation, exposes its parts.

    In a time-range model, a ref to a model with a `time_column` prints as that relation filtered to the
    batch's interval; `.unfiltered()` prints the plain relation.
    """

    __slots__ = ("_plain", "_relation", "_text", "_used")

    def __init__(
        self, relation: Relation | None, text: str, used: Callable[[], None], plain: str | None = None
    ) -> None:
        self._relation = relation
        self._text = text
        self._used = used
        self._plain = text if plain is None else plain

    def __str__(self) -> str:
        self._used()
        return self._text

    def unfiltered(self) -> RelationRef:
        """The relation itself, not filtered to the batch's interval."""
        return RelationRef(self._relation, self._plain, self._used)

    def __html__(self) -> str:
        return str(self)

    def _part(self, name: str) -> str | None:
        self._used()
        if self._relation is None:
            return "__sqlflow_pending__"
        return getattr(self._relation, name)

    @property
    def database(self) -> str | None:
        return self._part("database")

    @property
    def schema(self) -> str | None:
        return self._part("schema")

    @property
    def identifier(self) -> str | None:
        return self._part("identifier")

    name = identifier
    is_cte = False  # dbt's flag of an ephemeral model's CTE (dbt_utils refuses those in star)

    def render(self) -> str:
        return str(self)

    def get(self, key: str, default: Any = None) -> Any:
        """dbt's relations are mappings: `relation.get('metadata')` (dbt_utils' `_is_relation` check)."""
        return relation_item(self, key, default)

    def __getitem__(self, key: str) -> Any:
        return relation_item(self, key, KeyError)


def relation_item(relation: Any, key: str, default: Any) -> Any:
    """`relation[key]` as dbt's relations give it: a part, or `metadata` naming the relation type."""
    if key == "metadata":
        return {"type": "Relation"}
    if key in ("database", "schema", "identifier", "name"):
        return getattr(relation, key)
    if default is KeyError:
        raise KeyError(key)
    return default


Mapping.register(RelationRef)  # `relation is mapping`, as a dbt relation is


# (kind, args, location) -> (relation or None, the text to print[, the unfiltered text]); raises
# UnknownRefError. The third item is there when the text is a ref filtered to a time-range batch.
Resolve = Callable[[str, tuple[str, ...], SourceLocation], tuple[Any, ...]]


class BatchBound:
    """`start` / `end` in a model: the bounds of the interval a time-range batch processes.

    The SQL is compiled once; each bound prints as a token that the runner replaces with the batch's
    bound, an ISO timestamp in UTC (`2024-01-01 00:00:00+00:00`). `isoformat()`, `date()` and
    `strftime(fmt)` print tokens that carry their format.
    """

    __slots__ = ("_which",)

    def __init__(self, which: str) -> None:
        self._which = which

    def _token(self, fmt: str | None = None) -> str:
        return f"__sqlflow_{self._which}__" if fmt is None else f"__sqlflow_{self._which}|{fmt}__"

    def __str__(self) -> str:
        return self._token()

    def __html__(self) -> str:
        return str(self)

    def isoformat(self) -> str:
        return self._token("iso")

    def date(self) -> str:
        return self._token("%Y-%m-%d")

    def strftime(self, fmt: str) -> str:
        if "__" in fmt or "|" in fmt:
            raise TemplateError(f"{self._which}.strftime() cannot take '__' or '|' in its format")
        return self._token(fmt)


def template_location() -> SourceLocation | None:
    """The file:line of the innermost template frame running now (a model, test or macro file)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return SourceLocation(template.name, template.get_corresponding_lineno(frame.f_lineno))
        frame = frame.f_back
    return None


class RenderState:
    """What the file being rendered has called so far; reset for every render."""

    def __init__(self) -> None:
        self.result = RenderResult("")
        self.path = ""
        self.resolve: Resolve | None = None
        self.incremental = False
        self.config: dict[str, Any] = {}

        self.line: int | None = None  # of the call being made, when the quick path renders

    def used(self) -> None:
        self.result.needs_relations = True

    def dynamic(self) -> None:
        self.result.needs_relations = True
        self.result.uncacheable = True

    def queried(self) -> None:
        self.dynamic()
        self.result.queried = True

    def at_line(self, line: int) -> None:
        self.line = line

    def where(self) -> SourceLocation:
        """Where the template is now: the innermost Jinja frame, else the quick path's line."""
        return template_location() or SourceLocation(self.path, self.line)


class ConfigCall:
    """`config(...)` records a model's config; `config.get(key, default)` reads the merged config so far."""

    def __init__(self, state: RenderState, warn: Warn | None = None) -> None:
        self._state = state
        self._warn = warn  # a likely typo of a config key, kept as a custom config

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        state = self._state
        location = state.where()
        if args:
            if len(args) != 1 or not isinstance(args[0], Mapping):
                raise TemplateError("config() takes keyword arguments", location=location)
            kwargs = {**args[0], **kwargs}
        normalised = normalise_config(kwargs, where=location, warn=self._warn)
        state.result.configs.append((normalised, location))
        state.config.update(normalised)
        return ""

    def get(self, key: str, default: Any = None) -> Any:
        return self._state.config.get(key, default)

    def require(self, key: str) -> Any:
        if key not in self._state.config:
            raise TemplateError(
                f"config '{key}' is required",
                location=self._state.where(),
            )
        return self._state.config[key]
