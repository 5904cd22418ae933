"""profiles.yml (dbt's shape) -> the Target the project runs on, or the embedded DuckDB default.

Looked up in: the `profiles_dir` argument, $SQLFLOW_PROFILES_DIR, the project folder, ~/.sqlflow/.
`{{ env_var('X') }}` / `{{ env_var('X', 'default') }}` in values is rendered with Jinja (imported only
when a value holds a template), with nothing but env_var in its context.
Imports only `sqlflow.errors`, `sqlflow.engines` (what each target type is), `sqlflow.manifest` and this
package.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlflow.engines import ENGINES, TARGET_TYPES
from sqlflow.errors import ConfigError, SourceLocation, did_you_mean, relative_path
from sqlflow.project.types import Target
from sqlflow.project.yamlfile import (
    YamlMap,
    expect_map,
    expect_str,
    item_location,
    key_location,
    kind,
    load_yaml,
    plain,
)

PROFILES_FILE = "profiles.yml"
EMBEDDED = ENGINES["duckdb"]  # the engine of a project without a profile
ENV_PROFILES_DIR = "SQLFLOW_PROFILES_DIR"
DEFAULT_TARGET = "default"


def find_profiles_file(root: Path, profiles_dir: Path | None = None) -> Path | None:
    """The profiles.yml to read, or None. An explicit `profiles_dir` must hold one."""
    if profiles_dir is not None:
        path = Path(profiles_dir).expanduser() / PROFILES_FILE
        if not path.is_file():
            raise ConfigError(
                f"no {PROFILES_FILE} in {profiles_dir}", hint="check --profiles-dir, or leave it out"
            )
        return path
    folders = [Path(os.environ[ENV_PROFILES_DIR]).expanduser()] if os.environ.get(ENV_PROFILES_DIR) else []
    folders += [root, Path.home() / ".sqlflow"]
    for folder in folders:
        if (folder / PROFILES_FILE).is_file():
            return folder / PROFILES_FILE
    return None


def default_target(root: Path, project_name: str, profile_name: str) -> Target:
    """The embedded DuckDB target used when no profile is found: `<root>/<project>.duckdb`."""
    return Target(
        name=DEFAULT_TARGET,
        profile_name=profile_name,
        type=EMBEDDED.name,
        schema=EMBEDDED.default_schema,
        database=project_name,
        settings={"path": str(root / f"{project_name}.duckdb")},
        profiles_file=None,
    )


def resolve_target(
    root: Path,
    project_name: str,
    profile: str | None,
    *,
    target: str | None = None,
    profiles_dir: Path | None = None,
) -> Target:
    """The target named `target` (else the profile's `target:`) of the project's profile in profiles.yml."""
    profile_name = profile or project_name
    path = find_profiles_file(root, profiles_dir)
    doc = None
    shown = PROFILES_FILE
    if path is not None:
        shown = relative_path(path, root)
        doc = load_yaml(path, shown)
        if doc is not None and not isinstance(doc, dict):
            raise ConfigError(
                f"{PROFILES_FILE} must be a mapping of profiles", location=SourceLocation(shown, 1)
            )
    if not doc or profile_name not in doc:
        if target is not None and target != DEFAULT_TARGET:
            where = shown if path is not None else f"any {PROFILES_FILE}"
            raise ConfigError(
                f"unknown target '{target}'",
                hint=f"no profile '{profile_name}' in {where}, so the only target is '{DEFAULT_TARGET}'",
            )
        return default_target(root, project_name, profile_name)

    context = f"profile '{profile_name}'"
    if not isinstance(doc[profile_name], dict):
        raise ConfigError(
            f"{context} must be a mapping, not {kind(doc[profile_name])}",
            location=key_location(shown, doc, profile_name),
        )
    prof: YamlMap = doc[profile_name]
    outputs = expect_map(shown, prof, "outputs", profile_name)
    if not outputs:
        raise ConfigError(
            f"{context} has no outputs",
            location=key_location(shown, doc, profile_name),
            hint="add 'outputs: {dev: {type: duckdb, path: dev.duckdb}}'",
        )
    name = _output_name(shown, doc, profile_name, target)
    output = outputs[name]
    if not isinstance(output, dict):
        raise ConfigError(
            f"target '{name}' must be a mapping, not {kind(output)}",
            location=key_location(shown, outputs, name),
        )
    settings = plain(_render_tree(output, shown, outputs, name))
    return _build_target(root, name, profile_name, settings, str(path), shown, output)


def _output_name(shown: str, doc: YamlMap, profile_name: str, target: str | None) -> str:
    """The output to use: `target`, else the profile's `target:`, else `dev` or the only output."""
    context = f"profile '{profile_name}'"
    prof = doc[profile_name]
    outputs = prof["outputs"]
    name, location = target, key_location(shown, doc, profile_name)
    if name is None and prof.get("target") is not None:
        name = _render_tree(expect_str(shown, prof, "target", context), shown, prof, "target")
        location = key_location(shown, prof, "target")
    if name is None:
        if "dev" not in outputs and len(outputs) > 1:
            raise ConfigError(
                f"{context} has no 'target:' saying which output to use",
                location=location,
                hint=f"add 'target: {next(iter(outputs))}' or pass --target",
            )
        name = "dev" if "dev" in outputs else next(iter(outputs))
    if name not in outputs:
        raise ConfigError(
            f"unknown target '{name}' in {context}",
            location=location,
            hint=f"available targets: {', '.join(outputs)}",
        )
    return str(name)


def _build_target(
    root: Path,
    name: str,
    profile_name: str,
    settings: dict[str, Any],
    file: str,
    shown: str,
    raw: Mapping[str, Any],
) -> Target:
    context = f"target '{name}'"
    engine = settings.pop("type", None)
    if engine not in TARGET_TYPES:
        message = (
            f"{context} has no 'type'" if engine is None else f"unsupported type '{engine}' in {context}"
        )
        raise ConfigError(
            message,
            location=key_location(shown, raw, "type"),
            hint=did_you_mean(str(engine), TARGET_TYPES) or f"sqlflow runs on {' and '.join(TARGET_TYPES)}",
        )
    for key in ("threads", "port"):
        value = settings.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            settings[key] = int(value)
    threads = settings.pop("threads", None)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigError(
            f"'threads' of {context} must be a whole number of at least 1, not {threads!r}",
            location=key_location(shown, raw, "threads"),
        )
    spec = ENGINES[engine]
    schema = settings.pop("schema", None) or spec.default_schema
    database: str | None = settings.pop("database", None)
    if spec.database_is_file:
        path = str(settings.get("path") or ":memory:")
        if path.startswith(":memory:"):
            database = database or "memory"
        elif "://" not in path and not path.startswith("md:"):
            resolved = root / Path(path).expanduser()
            path = str(resolved)
            database = database or resolved.stem
        settings["path"] = path
    else:
        database = settings.pop("dbname", None) or database
    return Target(
        name=name,
        profile_name=profile_name,
        type=engine,
        schema=str(schema),
        database=None if database is None else str(database),
        threads=threads,
        settings=settings,
        profiles_file=file,
    )


def _render_tree(value: Any, shown: str, parent: Any, key: Any) -> Any:
    """`value` with every string holding a template rendered; errors name the line of `parent[key]`."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        location = (
            item_location(shown, parent, key) if isinstance(key, int) else key_location(shown, parent, key)
        )
        return _render(value, location)
    if isinstance(value, dict):
        return {k: _render_tree(v, shown, value, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_tree(v, shown, value, i) for i, v in enumerate(value)]
    return value


class _UnsetVar(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def env_var(name: str, default: Any = None) -> Any:
    """dbt's env_var(): the variable's value, else `default`; unset without default is an error."""
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise _UnsetVar(name)


@functools.cache
def _environment() -> Any:
    import jinja2.sandbox

    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.globals.clear()
    env.globals["env_var"] = env_var
    # dbt's casting filters; the target's numbers (threads, port) are read from the rendered text anyway
    env.filters.update(as_number=lambda v: v, as_text=str, as_bool=lambda v: v, as_native=lambda v: v)
    return env


def _render(text: str, location: SourceLocation) -> str:
    import jinja2

    try:
        return str(_environment().from_string(text).render())
    except _UnsetVar as exc:
        raise ConfigError(
            f"environment variable '{exc.name}' is not set",
            location=location,
            hint=f"set it, or give a default: env_var('{exc.name}', '...')",
        ) from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"cannot render {text!r}: {exc.message}", location=location) from exc
