"""Connections to the engines a project runs on, behind one small `Adapter` protocol.

`open_adapter(target)` imports the engine's module by name (`sqlflow.adapters.duckdb` for a "duckdb" target)
only when it is called, so importing this package loads no driver.
"""

from __future__ import annotations

import importlib
import importlib.util

from sqlflow.adapters.base import TMP_SUFFIX, Adapter, Catalog, RelationType, first_line, relation_key
from sqlflow.errors import ConfigError
from sqlflow.project.types import Target

# target type -> (adapter module, driver package, pip extra); a missing module means "not supported yet"
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "duckdb": ("sqlflow.adapters.duckdb", "duckdb", None),
    "postgres": ("sqlflow.adapters.postgres", "psycopg", "postgres"),
}


def supported_types() -> list[str]:
    """The target types this installation can open."""
    return [name for name, (module, _, _) in ENGINES.items() if _module_exists(module)]


def open_adapter(target: Target) -> Adapter:
    """Connect to `target` through its engine's adapter; ConfigError for a type sqlflow cannot open."""
    engine = ENGINES.get(target.type)
    supported = ", ".join(supported_types())
    if engine is None:
        raise ConfigError(f"unknown target type '{target.type}'", hint=f"supported: {supported}")
    module_name, driver, extra = engine
    if not _module_exists(module_name):
        hint = f"supported: {supported}"
        if extra:
            hint += f"; it will need the {extra} extra: pip install 'sqlflow[{extra}]'"
        raise ConfigError(
            f"target type '{target.type}' is not supported by this version of sqlflow", hint=hint
        )
    if importlib.util.find_spec(driver) is None:
        raise ConfigError(
            f"target type '{target.type}' needs the {driver} package, which is not installed",
            hint=f"install the {extra} extra: pip install 'sqlflow[{extra}]'"
            if extra
            else f"pip install {driver}",
        )
    module = importlib.import_module(module_name)
    adapter: Adapter = module.open_adapter(target)
    return adapter


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


__all__ = [
    "TMP_SUFFIX",
    "Adapter",
    "Catalog",
    "RelationType",
    "first_line",
    "open_adapter",
    "relation_key",
    "supported_types",
]
