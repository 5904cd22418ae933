"""profiles.yml (dbt's shape) -> the Target the project runs on, or the embedded DuckDB default.

Looked up as dbt does: the `profiles_dir` argument (--profiles-dir), $SQLFLOW_PROFILES_DIR, $DBT_PROFILES_DIR,
the project folder, ~/.sqlflow/, ~/.dbt/; the first folder holding one wins. The embedded DuckDB default
applies only when none of them holds a profiles.yml and the project names no `profile:`.
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
ENV_PROFILES_DIRS = ("SQLFLOW_PROFILES_DIR", "DBT_PROFILES_DIR")  # when both are set, sqlflow's comes first
HOME_FOLDERS = (".sqlflow", ".dbt")
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
    for folder in profiles_folders(root):
        if (folder / PROFILES_FILE).is_file():
            return folder / PROFILES_FILE
    return None


def profiles_folders(root: Path) -> list[Path]:
    """The folders searched for profiles.yml without --profiles-dir, in order."""
    folders = [Path(os.environ[name]).expanduser() for name in ENV_PROFILES_DIRS if os.environ.get(name)]
    return [*folders, root, *(Path.home() / name for name in HOME_FOLDERS)]


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
    project_file: str = "sqlflow.yml",
) -> Target:
    """The target named `target` (else the profile's `target:`) of the project's profile in profiles.yml:
    `profile`, else the one named after the project. With no profiles.yml and no `profile`, the embedded
    DuckDB default; a profile or target that names nothing is an error listing what exists."""
    profile_name = profile or project_name
    path = find_profiles_file(root, profiles_dir)
    if path is None:
        return _without_profiles(root, project_name, profile, target, project_file)
    shown = relative_path(path, root)
    doc = load_yaml(path, shown) or YamlMap()
    if not isinstance(doc, YamlMap):
        raise ConfigError(f"{PROFILES_FILE} must be a mapping of profiles", location=SourceLocation(shown, 1))
    if profile_name not in doc:
        names = [str(name) for name in doc]
        why = (
            f"named by 'profile:' in {project_file}"
            if profile
            else f"{project_file} has no 'profile:', so the project's name is used"
        )
        close = did_you_mean(profile_name, names)
        listed = f"profiles there: {', '.join(names)}" if names else "it holds no profiles"
        raise ConfigError(
            f"no profile '{profile_name}' in {path}",
            hint=f"{why}; {close} {listed}" if close else f"{why}; {listed}",
        )

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


def _without_profiles(
    root: Path, project_name: str, profile: str | None, target: str | None, project_file: str
) -> Target:
    """No profiles.yml anywhere: the embedded DuckDB default, unless the project names a profile."""
    folders = [str(folder) for folder in profiles_folders(root)]
    searched = f"{', '.join(folders[:-1])} or {folders[-1]}"
    if profile is not None:
        raise ConfigError(
            f"profile '{profile}' not found: no {PROFILES_FILE} in {searched}",
            hint=f"'profile:' in {project_file} names it; write a {PROFILES_FILE}, or remove 'profile:' "
            f"to build into the embedded DuckDB {project_name}.duckdb",
        )
    if target is not None and target != DEFAULT_TARGET:
        raise ConfigError(
            f"unknown target '{target}'",
            hint=f"no {PROFILES_FILE} in {searched}, so the only target is '{DEFAULT_TARGET}' "
            f"(the embedded DuckDB {project_name}.duckdb)",
        )
    return default_target(root, project_name, project_name)


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
        close = did_you_mean(str(name), [str(output) for output in outputs])
        available = f"available targets: {', '.join(outputs)}"
        raise ConfigError(
            f"unknown target '{name}' in {context}",
            location=location,
            hint=f"{close} {available}" if close else available,
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
