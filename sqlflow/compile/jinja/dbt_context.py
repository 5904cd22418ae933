"""The parts of dbt's Jinja context that are plain Python values: `return`, `execute`, `run_query` /
`statement` / `load_result` (through an injected query function, only while `execute` is true) and the
agate-like table they return, `flags`, `model` and `graph`, and the small functions (fromjson, toyaml, zip,
set ...). `dbt_adapter.py` has `adapter`, `dbt.`, `api` and `exceptions`.

`templating.Renderer` puts these into its environment. Pure Python: no jinja2, no sqlglot, no driver; the
compiler hands in `query(sql) -> (column names, rows)` when a connection is available.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlflow.engines import quote_identifier
from sqlflow.errors import SourceLocation, TemplateError

Query = Callable[[str], tuple[Sequence[str], Sequence[Sequence[Any]]]]
Where = Callable[[], SourceLocation | None]


class MacroReturn(Exception):
    """`{{ return(value) }}`: ends the macro being called, which returns `value`."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def macro_return(value: Any = None) -> None:
    raise MacroReturn(value)


# -- query results, shaped like agate's --------------------------------------------------------------------


class Row(tuple[Any, ...]):
    """A result row: a tuple whose values are also reachable by column name (`row['id']`, `row.id`)."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def __getattr__(self, name: str) -> Any:
        try:
            return tuple.__getitem__(self, self._names[name])
        except KeyError:
            raise AttributeError(name) from None

    def keys(self) -> list[str]:
        return list(self._names)

    def values(self) -> tuple[Any, ...]:
        return tuple(self)

    def items(self) -> list[tuple[str, Any]]:
        return list(zip(self._names, self, strict=False))

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._names else default


_STRING_TYPES = ("text", "character varying", "character", "varchar", "char", "string", "bpchar")
_INTEGER_TYPES = (
    "smallint", "integer", "bigint", "hugeint", "tinyint", "int", "int2", "int4", "int8", "serial",
    "bigserial", "smallserial", "ubigint", "uinteger", "usmallint", "utinyint",
)  # fmt: skip
_FLOAT_TYPES = ("real", "float", "float4", "float8", "double", "double precision")


class Column:
    """A column of a query result (`.name`, `.values()`), or of a relation (`.column`, `.data_type`)."""

    def __init__(self, name: str, values: Sequence[Any] = (), data_type: str | None = None) -> None:
        self.name = self.column = name
        self._values = tuple(values)
        self.data_type = self.dtype = data_type

    def values(self) -> tuple[Any, ...]:
        return self._values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def quoted(self) -> str:
        return quote_identifier(self.name)

    # dbt's Column type tests (dbt_utils.union_relations compares string sizes)
    def _base_type(self) -> str:
        return (self.data_type or "").split("(", 1)[0].strip().lower()

    def is_string(self) -> bool:
        return self._base_type() in _STRING_TYPES

    def is_integer(self) -> bool:
        return self._base_type() in _INTEGER_TYPES

    def is_float(self) -> bool:
        return self._base_type() in _FLOAT_TYPES

    def is_numeric(self) -> bool:
        return self._base_type() in ("numeric", "decimal")

    def is_number(self) -> bool:
        return self.is_integer() or self.is_float() or self.is_numeric()

    def string_size(self) -> int:
        """The declared size of a `varchar(n)` column, 256 when it declares none (as dbt)."""
        if not self.is_string():
            raise TemplateError(f"column {self.name} is not a string column")
        size = (self.data_type or "").partition("(")[2].rstrip(")").strip()
        return int(size) if size.isdigit() else 256

    def __repr__(self) -> str:
        return f"<Column {self.name} {self.data_type or ''}>".replace(" >", ">")


class Columns(Sequence[Column]):
    """Columns by position or by name, as agate's `table.columns`."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for column in self._columns:
                if column.name == key:
                    return column
            raise KeyError(key)
        return self._columns[key]

    def __len__(self) -> int:
        return len(self._columns)

    def keys(self) -> list[str]:
        return [c.name for c in self._columns]

    def values(self) -> list[Column]:
        return list(self._columns)


class Table:
    """What `run_query` returns: `.rows`, `.columns`, `.column_names`, iteration over rows, `len()`."""

    def __init__(self, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        index = {str(n): i for i, n in enumerate(names)}
        self.column_names = tuple(str(n) for n in names)
        self.rows = [Row(r, index) for r in rows]
        self.columns = Columns(
            [Column(n, [r[i] for r in self.rows]) for i, n in enumerate(self.column_names)]
        )

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def print_table(self, *args: Any, **kwargs: Any) -> str:
        return ""  # dbt prints it to the console; sqlflow's core never prints

    def __repr__(self) -> str:
        return f"<Table {len(self.rows)} rows: {', '.join(self.column_names)}>"


# -- the query context: execute, run_query, statement, load_result ------------------------------------------


class Queries:
    """`execute`, `run_query`, `statement` and `load_result` for one compile.

    Without a query function (a compile with no connection) `execute` is false and nothing runs, as in
    dbt's parse phase: `run_query` returns None and `load_result` nothing. `used` is called whenever a
    template looks at any of them (its output may change between the passes, and must not be cached).
    """

    def __init__(self, query: Query | None, used: Callable[[], None], where: Where) -> None:
        self._query = query
        self._used = used
        self._where = where
        self.executing = False  # set per render: pass 2 with a connection
        self._results: dict[str, Any] = {}

    def execute_flag(self) -> _ExecuteFlag:
        return _ExecuteFlag(self)

    def _run(self, sql: str) -> Table:
        assert self._query is not None
        try:
            names, rows = self._query(str(sql))
        except TemplateError:
            raise
        except Exception as exc:  # the adapter's error, at the template line that ran the query
            message = getattr(exc, "message", None) or str(exc)
            raise TemplateError(f"run_query failed: {message}", location=self._where()) from exc
        return Table(names, rows)

    def run_query(self, sql: Any) -> Table | None:
        self._used()
        if not (self.executing and self._query is not None):
            return None
        return self._run(str(sql))

    def statement(
        self, name: str | None = None, fetch_result: bool = False, auto_begin: bool = True, **kwargs: Any
    ) -> str:
        caller = kwargs.pop("caller", None)
        self._used()
        if caller is None or not (self.executing and self._query is not None):
            return ""
        table = self._run(str(caller()))
        if name is not None:
            self._results[name] = {
                "response": "OK",
                "data": [tuple(r) for r in table.rows] if fetch_result else [],
                "table": table if fetch_result else None,
            }
        return ""

    def load_result(self, name: str) -> Mapping[str, Any] | None:
        self._used()
        return self._results.get(name)

    def store_result(self, name: str, response: Any = None, agate_table: Any = None) -> str:
        self._results[name] = {"response": response, "data": list(agate_table or []), "table": agate_table}
        return ""


class _ExecuteFlag:
    """`execute`: true only while a file is rendered for its final SQL with a connection at hand."""

    def __init__(self, queries: Queries) -> None:
        self._queries = queries

    def __bool__(self) -> bool:
        self._queries._used()
        return self._queries.executing and self._queries._query is not None

    def __str__(self) -> str:
        return str(bool(self))

    def __eq__(self, other: object) -> bool:
        return bool(self) == other

    def __hash__(self) -> int:
        return hash(bool(self))


class Flags:
    """`flags.FULL_REFRESH`, `flags.WHICH` ...: read-only; reading one makes the file's output uncacheable."""

    def __init__(self, values: Mapping[str, Any], used: Callable[[], None]) -> None:
        self._values = {k.upper(): v for k, v in values.items()}
        self._used = used

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        self._used()
        return self._values.get(name.upper())

    def __getitem__(self, name: str) -> Any:
        return self.__getattr__(name)


DEFAULT_FLAGS: Mapping[str, Any] = {
    "FULL_REFRESH": False,
    "STORE_FAILURES": False,
    "WARN_ERROR": False,
    "WHICH": "compile",
    "EMPTY": False,
    "DEBUG": False,
    "LOG_FORMAT": "default",
    "USE_COLORS": True,
    "PARTIAL_PARSE": True,
    "PRINTER_WIDTH": 80,
    "INTROSPECT": True,
    "SEND_ANONYMOUS_USAGE_STATS": False,
    "STATIC_PARSER": True,
    "VERSION_CHECK": False,
    "FAIL_FAST": False,
    "TARGET_PATH": "target",
}


# -- small functions of dbt's context -----------------------------------------------------------------------


def fromjson(text: Any, default: Any = None) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def toyaml(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    import yaml

    try:
        return yaml.safe_dump(value, sort_keys=sort_keys)
    except yaml.YAMLError:
        return default


def fromyaml(text: Any, default: Any = None) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, TypeError):
        return default


def try_set(value: Any, default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


def set_strict(value: Any) -> set[Any]:
    return set(value)


def try_zip(*args: Any, default: Any = None) -> Any:
    try:
        return zip(*args, strict=False)
    except TypeError:
        return default


def zip_strict(*args: Any) -> Any:
    return zip(*args, strict=False)


def local_md5(value: Any) -> str:
    import hashlib

    return hashlib.md5(str(value).encode()).hexdigest()


def tojson(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return json.dumps(value, sort_keys=sort_keys)
    except (TypeError, ValueError):
        return default


# -- model and graph ---------------------------------------------------------------------------------------


class Tracked(Mapping[str, Any]):
    """`model`: a mapping built on first use, whose reading tells the renderer the text depends on it."""

    def __init__(
        self, data: Mapping[str, Any] | Callable[[], Mapping[str, Any]], used: Callable[[], None]
    ) -> None:
        self._data = data
        self._used = used

    def _doc(self) -> Mapping[str, Any]:
        self._used()
        if callable(self._data):
            self._data = self._data()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._doc()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc())

    def __len__(self) -> int:
        return len(self._doc())


EMPTY_GRAPH: Mapping[str, Any] = {
    "nodes": {}, "sources": {}, "exposures": {}, "metrics": {}, "groups": {}, "semantic_models": {},
    "saved_queries": {}, "unit_tests": {},
}  # fmt: skip


class LazyGraph(Mapping[str, Any]):
    """`graph`: the manifest-shaped nodes and sources, built on first use; reading it makes a file's text
    uncacheable (it depends on the whole project)."""

    def __init__(self, build: Callable[[], Mapping[str, Any]], used: Callable[[], None]) -> None:
        self._build = build
        self._used = used

    def _doc(self) -> Mapping[str, Any]:
        self._used()
        return self._build()

    def __getitem__(self, key: str) -> Any:
        return self._doc()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc())

    def __len__(self) -> int:
        return len(self._doc())
