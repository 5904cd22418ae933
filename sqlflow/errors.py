"""The one error tree of sqlflow, and where in a user's files an error happened.

Every error a user can cause is a `SqlflowError`: one message, a file:line location when there is one,
and a hint saying how to fix it. The CLI prints it as one line and exits with the class's `exit_code`.
This module imports nothing from sqlflow.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in a user's file; `line` and `column` are 1-based, None when unknown."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        out = self.path
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out


class SqlflowError(Exception):
    """Base of every user-facing error."""

    exit_code: ClassVar[int] = 1

    def __init__(
        self, message: str, *, location: SourceLocation | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        out = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            out += f" ({self.hint})"
        return out


class ConfigError(SqlflowError):
    """A project, profile or property file is wrong."""


class TemplateError(SqlflowError):
    """Jinja failed to render a model, test or macro."""


class SqlSyntaxError(SqlflowError):
    """sqlglot could not parse a model's SQL."""


class TranspileError(SqlflowError):
    """A construct cannot be written in the target's dialect."""


class UnknownRefError(SqlflowError):
    """A ref() or source() names nothing in the project."""


class DuplicateNodeError(SqlflowError):
    """Two files define a node of the same name."""


class CycleError(SqlflowError):
    """The models depend on each other in a circle."""


class SelectionError(SqlflowError):
    """A --select / --exclude expression is malformed; a usage error like click's."""

    exit_code: ClassVar[int] = 2


class AdapterError(SqlflowError):
    """The database could not be reached or refused a statement."""


class DatabaseLockedError(AdapterError):
    """Another process holds the database file (DuckDB lets one process write a file); retrying may work."""


class NodeFailedError(SqlflowError):
    """A node failed while running; the message is the engine's."""


class RunFailedError(SqlflowError):
    """A run finished with failed nodes (the summary has already been shown)."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidates to `word`, or None.

    >>> did_you_mean("ordres", ["orders", "customers"])
    "did you mean 'orders'?"
    >>> did_you_mean("zzz", ["orders"]) is None
    True
    """
    close = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def relative_path(path: Path, root: Path) -> str:
    """`path` relative to `root` when it lies under it, for messages."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
