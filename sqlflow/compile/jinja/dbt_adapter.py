"""The objects of dbt's Jinja context that stand for the database and dbt itself: `adapter` (dispatch,
quote, relations and columns through the query context), the `dbt.` namespace, package namespaces,
`api` (Relation.create, Column.translate_type) and `exceptions`.

`templating.Renderer` puts these into its environment. Pure Python: no jinja2, no sqlglot, no driver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlflow.compile.jinja.context_values import relation_item
from sqlflow.compile.jinja.crossdb import translate_type
from sqlflow.compile.jinja.dbt_context import Column, Queries, Where
from sqlflow.engines import quote_identifier, quote_string
from sqlflow.errors import SourceLocation, TemplateError, did_you_mean

# -- relations --------------------------------------------------------------------------------------------


def quote(part: str) -> str:
    return quote_identifier(str(part))


class DbtRelation:
    """A relation as `api.Relation.create(...)` and `adapter.get_relation(...)` give it."""

    def __init__(
        self, database: str | None = None, schema: str | None = None, identifier: str | None = None, **_: Any
    ) -> None:
        self.database, self.schema, self.identifier = database, schema, identifier
        self.name = identifier
        self.type = _.get("type")

    def include(self, database: bool = True, schema: bool = True, identifier: bool = True) -> DbtRelation:
        return DbtRelation(
            self.database if database else None,
            self.schema if schema else None,
            self.identifier if identifier else None,
        )

    def without_identifier(self) -> DbtRelation:
        return self.include(identifier=False)

    def render(self) -> str:
        return ".".join(quote(p) for p in (self.database, self.schema, self.identifier) if p)

    def __str__(self) -> str:
        return self.render()

    def __html__(self) -> str:
        return self.render()

    is_cte = False

    def get(self, key: str, default: Any = None) -> Any:
        """dbt's relations are mappings: `relation.get('metadata')` (dbt_utils' `_is_relation` check)."""
        return relation_item(self, key, default)

    def __getitem__(self, key: str) -> Any:
        return relation_item(self, key, KeyError)


Mapping.register(DbtRelation)  # `relation is mapping`, as a dbt relation is


class _RelationApi:
    @staticmethod
    def create(
        database: str | None = None, schema: str | None = None, identifier: str | None = None, **kwargs: Any
    ) -> DbtRelation:
        return DbtRelation(database, schema, identifier, **kwargs)


class _ColumnApi:
    translate_type = staticmethod(translate_type)

    @staticmethod
    def create(name: str, label_or_dtype: str) -> Column:
        return Column(name, data_type=translate_type(label_or_dtype))

    @staticmethod
    def numeric_type(dtype: str, precision: Any, scale: Any) -> str:
        return dtype if precision is None or scale is None else f"{dtype}({precision},{scale})"

    @staticmethod
    def string_type(size: int) -> str:
        return f"character varying({size})"


class Api:
    """`api.Relation.create(...)`, `api.Column.translate_type(...)`."""

    Relation = _RelationApi
    Column = _ColumnApi


# -- adapter, dbt., exceptions ------------------------------------------------------------------------------


class Adapter:
    """`adapter`: dispatch (a project's `<adapter>__name` / `default__name`, then sqlflow's built-ins; for an
    installed package's namespace, dbt's search order), quote, type, and relations and columns through the
    query context."""

    def __init__(
        self,
        adapter_type: str,
        find_macro: Callable[[str], Callable[..., Any] | None],
        builtins: Mapping[str, Callable[..., Any]],
        queries: Queries,
        where: Where,
        *,
        project_name: str = "",
        packages: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None,
        search_orders: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`packages`: each installed package's macros by name; `search_orders`: the project's `dispatch:`
        (macro_namespace -> search_order)."""
        self._project = project_name
        self._packages = packages or {}
        self._orders = search_orders or {}
        self._type = adapter_type
        self._find = find_macro
        self._builtins = builtins
        self._queries = queries
        self._where = where

    def type(self) -> str:
        return self._type

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> Any:
        if not isinstance(macro_name, str):
            raise TemplateError("adapter.dispatch() takes a macro name as a string", location=self._where())
        if "." in macro_name:
            macro_namespace, _, macro_name = macro_name.rpartition(".")
        names = [f"{self._type}__{macro_name}", f"default__{macro_name}"]
        order = self._search_order(macro_namespace)
        if order is not None:
            return self._dispatch_in(order, macro_name, names, macro_namespace)
        for name in names:
            found = self._find(name)
            if found is not None:
                return found
        builtin = self._builtins.get(f"default__{macro_name}") or self._builtins.get(macro_name)
        if builtin is not None and macro_namespace in (None, "dbt"):
            return builtin
        package = f" of package '{macro_namespace}'" if macro_namespace not in (None, "dbt") else ""
        raise TemplateError(
            f"adapter.dispatch('{macro_name}'{package}) found no macro: looked for "
            + ", ".join(f"'{n}'" for n in names),
            location=self._where(),
            hint="define one of them in macros/ (packages are not installed)"
            if package
            else "define one of them in macros/",
        )

    def _search_order(self, namespace: str | None) -> Sequence[str] | None:
        """dbt's search order for `namespace`: the project's `dispatch:` entry, else (an installed package)
        the root project then the package; None: the project's macros, then sqlflow's built-ins."""
        if namespace is None:
            return None
        if namespace in self._orders:
            return self._orders[namespace]
        if namespace in self._packages:
            return (self._project, namespace)
        return None

    def _dispatch_in(
        self, order: Sequence[str], macro_name: str, names: Sequence[str], namespace: str | None
    ) -> Any:
        attempts: list[str] = []
        for package in order:
            for name in names:
                attempts.append(f"{package}.{name}")
                if package == self._project:
                    found = self._find(name)
                elif package in self._packages:
                    found = self._packages[package].get(name)
                elif package == "dbt" and name.startswith("default__"):
                    found = self._builtins.get(name) or self._builtins.get(macro_name)
                else:
                    found = None
                if found is not None:
                    return found
        raise TemplateError(
            f"adapter.dispatch('{macro_name}', '{namespace}') found no macro: looked for "
            + ", ".join(f"'{a}'" for a in attempts),
            location=self._where(),
            hint=f"the search order of '{namespace}' is {', '.join(order)}"
            + (" (dispatch: in dbt_project.yml)" if namespace in self._orders else ""),
        )

    def quote(self, identifier: Any) -> str:
        return quote(str(identifier))

    def quote_as_configured(self, identifier: Any, quote_key: str = "identifier") -> str:
        return quote(str(identifier))

    def get_relation(self, database: Any, schema: Any, identifier: Any) -> DbtRelation | None:
        if not (self._queries.executing and self._queries._query is not None):
            self._queries._used()
            return None
        table = self._queries._run(
            "select table_name, table_type from information_schema.tables where "
            f"lower(table_schema) = lower('{_escape(schema)}') and "
            f"lower(table_name) = lower('{_escape(identifier)}')"
            + (f" and lower(table_catalog) = lower('{_escape(database)}')" if database else "")
        )
        if not table.rows:
            return None
        kind = "view" if "VIEW" in str(table.rows[0][1]).upper() else "table"
        return DbtRelation(database, str(schema), str(table.rows[0][0]), type=kind)

    def get_columns_in_relation(self, relation: Any) -> list[Column]:
        if not (self._queries.executing and self._queries._query is not None):
            self._queries._used()
            return []
        schema, identifier = getattr(relation, "schema", None), getattr(relation, "identifier", None)
        table = self._queries._run(
            "select column_name, data_type from information_schema.columns where "
            f"lower(table_schema) = lower('{_escape(schema)}') and "
            f"lower(table_name) = lower('{_escape(identifier)}') order by ordinal_position"
        )
        return [Column(str(r[0]), data_type=str(r[1])) for r in table.rows]

    def load_relation(self, relation: Any) -> DbtRelation | None:
        """dbt's `load_relation(relation)`: get_relation of the relation's parts (None: not there)."""
        parts = (getattr(relation, p, None) for p in ("database", "schema", "identifier"))
        return self.get_relation(*parts)

    def already_exists(self, schema: Any, name: Any) -> bool:
        return self.get_relation(None, schema, name) is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise TemplateError(
            f"adapter.{name} is not supported by sqlflow",
            location=self._where(),
            hint="supported: dispatch, quote, type, get_relation, get_columns_in_relation",
        )


def _escape(value: Any) -> str:
    return quote_string(value)[1:-1]  # the literal's body: inner quotes doubled


class DbtNamespace:
    """`dbt.<macro>(...)`: dbt's own macros, through adapter.dispatch (a project's default__x wins)."""

    def __init__(self, adapter: Adapter) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._adapter.dispatch(name, "dbt")


# packages dbt projects commonly install: `dbt_utils.x` names the project's own macro `x` (a copy of the
# package's), else it is an error saying the package is not installed
KNOWN_PACKAGES = (
    "dbt_utils", "dbt_expectations", "dbt_date", "codegen", "audit_helper", "dbt_external_tables",
    "elementary", "metrics", "dbt_project_evaluator", "fivetran_utils", "spark_utils", "dbt_artifacts",
    "re_data", "dbt_profiler", "dbt_meta_testing",
)  # fmt: skip


class Package:
    """A package's namespace (`dbt_utils.star(...)`): an installed package's macro `x`; for a package not
    installed, the project's own macro `x` when it has one (a copied macro), else an error naming it."""

    def __init__(
        self,
        name: str,
        find_macro: Callable[[str], Callable[..., Any] | None],
        where: Where,
        installed: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        """`installed`: the macros of the package when it is installed (dbt_packages/): `pkg.x` is its `x`."""
        self._name = name
        self._find = find_macro
        self._where = where
        self._installed = installed

    def __getattr__(self, macro: str) -> Any:
        if macro.startswith("_") and (macro.startswith("__") or macro not in (self._installed or ())):
            raise AttributeError(macro)  # a package's own `_private` macro is found (dbt_utils._is_relation)
        if self._installed is not None:
            found = self._installed.get(macro)
            if found is not None:
                return found
            raise TemplateError(
                f"{self._name}.{macro}: package {self._name} has no macro '{macro}'",
                location=self._where(),
                hint=did_you_mean(macro, self._installed),
            )
        found = self._find(macro)
        if found is not None:
            return found
        raise TemplateError(
            f"{self._name}.{macro} is a macro of package {self._name}, which is not installed",
            location=self._where(),
            hint=f"sqlflow installs no packages: copy the macro into macros/, where {self._name}.x finds it",
        )


class Exceptions:
    """`exceptions.raise_compiler_error(msg)`, `exceptions.warn(msg)` and dbt's other raisers."""

    def __init__(self, where: Where, warn: Callable[[str, SourceLocation | None], None]) -> None:
        self._where = where
        self._warn = warn

    def raise_compiler_error(self, message: Any, node: Any = None) -> None:
        raise TemplateError(str(message), location=self._where())

    def warn(self, message: Any, node: Any = None) -> str:
        self._warn(str(message), self._where())
        return ""

    def raise_not_implemented(self, message: Any) -> None:
        raise TemplateError(f"not implemented: {message}", location=self._where())

    def raise_fail_fast_error(self, message: Any, node: Any = None) -> None:
        raise TemplateError(str(message), location=self._where())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise TemplateError(
            f"exceptions.{name} is not supported by sqlflow",
            location=self._where(),
            hint="use exceptions.raise_compiler_error or exceptions.warn",
        )


def dispatching(adapter: Adapter, name: str) -> Callable[..., Any]:
    """A global standing for dbt's macro `name`: it dispatches on each call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return adapter.dispatch(name, "dbt")(*args, **kwargs)

    call.__name__ = name
    return call
