"""The SQL helpers every section of the state store builds its statements with: quoted tables, string and
timestamp literals, and the UTC rule for timestamps read back. Imports no driver; the adapter runs the SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import quote, string_literal

TS = "timestamp with time zone"


class StoreSQL:
    """The literals of one state store's statements (a base of `StateStore` and of its sections)."""

    adapter: Adapter
    schema: str
    _d: str

    def _t(self, table: str) -> str:
        return f"{quote(self.schema, self._d)}.{quote(table, self._d)}"

    def _s(self, value: str | None) -> str:
        return "NULL" if value is None else string_literal(value, self._d)

    def _ts(self, value: datetime | None) -> str:
        if value is None:
            return "NULL"
        iso = _utc(value).isoformat(sep=" ")
        return f"CAST({string_literal(iso, self._d)} AS {TS})"


def _utc(value: datetime) -> datetime:
    """A timestamp read back or passed in, as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
