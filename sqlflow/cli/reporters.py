"""Reporters the CLI hands to a run: rich lines for people, JSON lines for CI. The core never prints."""

from __future__ import annotations

import json
import sys
import threading
from typing import IO

from rich.console import Console
from rich.markup import escape

from sqlflow.runner.events import RunEvent
from sqlflow.statuses import PROBLEM_STATUSES

STATUS_STYLE = {
    "success": ("OK", "green"),
    "pass": ("PASS", "green"),
    "warn": ("WARN", "yellow"),
    "fail": ("FAIL", "red"),
    "error": ("ERROR", "red"),
    "skipped": ("SKIP", "yellow"),
}

# an incremental model's message names the columns it added, dropped or retyped: always shown
SCHEMA_CHANGE_WORDS = ("(added: ", "dropped: ", "retyped: ")


class RichReporter:
    """One line per finished node, in the order they finish: count, status, kind, name, rows, seconds."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.Lock()
        self.finished = 0

    def emit(self, event: RunEvent) -> None:
        if event.kind == "run_started":
            self.console.print(f"Running {event.total} nodes")
            return
        if event.kind == "interval_finished":
            rows = f"{event.rows} rows, " if event.rows is not None else ""
            with self.lock:
                self.console.print(
                    f"      [dim]interval[/] {escape(event.name or '')} {escape(event.message or '')} "
                    f"[dim]({rows}{event.seconds or 0:.2f}s)[/]",
                    highlight=False,
                )
            return
        if event.kind == "node_retry":
            with self.lock:
                self.console.print(
                    f"      [yellow]RETRY[/] {escape(event.name or '')} in {event.seconds or 0:.1f}s "
                    f"[dim]({escape(event.message or '')})[/]",
                    highlight=False,
                )
            return
        if event.kind != "node_finished":
            return
        word, color = STATUS_STYLE.get(event.status or "", ((event.status or "?").upper(), "white"))
        kind = event.materialized if event.resource_type == "model" else event.resource_type
        width = len(str(event.total or 0))
        detail = []
        if event.rows is not None:
            noun = "failing rows" if event.resource_type == "test" else "rows"
            detail.append(f"{event.rows} {noun}")
        if event.seconds is not None:
            detail.append(f"{event.seconds:.2f}s")
        with self.lock:
            self.finished += 1
            line = (
                f"{self.finished:>{width}}/{event.total or 0} [{color}]{word:<5}[/] "
                f"{kind or '':<11} {escape(event.name or '')}"
            )
            if detail:
                line += f" [dim]({', '.join(detail)})[/]"
            self.console.print(line, highlight=False)
            if event.message and (
                event.status in PROBLEM_STATUSES
                or "soft fail" in event.message
                or any(word in event.message for word in SCHEMA_CHANGE_WORDS)
            ):
                self.console.print(f"      [{color}]{escape(event.message)}[/]", highlight=False)


class JsonReporter:
    """One JSON object per event on stdout, for CI logs."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def emit(self, event: RunEvent) -> None:
        doc = {k: getattr(event, k) for k in event.__slots__ if getattr(event, k) is not None}
        with self.lock:
            self.stream.write(json.dumps(doc) + "\n")
            self.stream.flush()
