"""Connections to the engines a project runs on, behind one small `Adapter` protocol.

`open_adapter(target)` imports the engine's module (`EngineSpec.adapter_module` of `sqlflow.engines`) only
when it is called, so importing this package loads no driver.
"""

from __future__ import annotations

import importlib
import importlib.util

from sqlflow.adapters.base import TMP_SUFFIX, Adapter, Catalog, RelationType, first_line, relation_key
from sqlflow.engines import ENGINES
from sqlflow.errors import ConfigError
from sqlflow.project.types import Target


def supported_types() -> list[str]:
    """The target types this installation can open (a spec whose adapter module is missing: not yet)."""
    return [name for name, spec in ENGINES.items() if _module_exists(spec.adapter_module)]


def open_adapter(target: Target) -> Adapter:
    """Connect to `target` through its engine's adapter; ConfigError for a type sqlflow cannot open."""
    spec = ENGINES.get(target.type)
    supported = ", ".join(supported_types())
    if spec is None:
        raise ConfigError(f"unknown target type '{target.type}'", hint=f"supported: {supported}")
    module_name, driver, extra = spec.adapter_module, spec.driver, spec.extra
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
