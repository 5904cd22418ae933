"""Read sqlflow.yml (preferred) or dbt_project.yml: the keys dbt users know plus sqlflow's `dialect:`.

Unknown keys are errors with did-you-mean; dbt keys sqlflow does not use yet are tolerated and ignored.
Imports only `sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project.config import deep_merge_tree, normalise_tree, strip_project_level
from sqlflow.project.notifications import NO_NOTIFICATIONS, Notifications, read_notifications
from sqlflow.project.run_hooks import RunHook, read_run_hooks
from sqlflow.project.schedules import read_schedules
from sqlflow.project.types import ScheduleJob
from sqlflow.project.yamlfile import (
    YamlMap,
    check_keys,
    expect_map,
    expect_str,
    expect_str_list,
    key_location,
    load_yaml,
    plain,
    wrong_type,
)

PROJECT_FILES = ("sqlflow.yml", "dbt_project.yml")

USED_KEYS = (
    "name", "profile", "version", "config-version", "dialect", "vars", "model-paths", "seed-paths",
    "test-paths", "macro-paths", "snapshot-paths", "analysis-paths", "docs-paths", "target-path",
    "clean-targets", "models", "seeds", "tests", "data_tests", "snapshots", "pools",
    "notifications", "schedules", "flags",
)  # fmt: skip
# dbt keys sqlflow reads without using (yet): a dbt project loads as it is.
TOLERATED_KEYS = (
    "require-dbt-version", "quoting", "on-run-start", "on-run-end", "dispatch", "query-comment",
    "packages-install-path", "asset-paths", "log-path", "sources", "unit_tests", "metrics",
    "semantic-models", "saved-queries", "exposures", "dbt-cloud", "restrict-access", "analyses",
)  # fmt: skip
RENAMED_KEYS = {"source-paths": "model-paths", "data-paths": "seed-paths"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectFile:
    """What sqlflow.yml says, validated; trees are normalised and below the project-name level."""

    file: str  # "sqlflow.yml" or "dbt_project.yml"
    name: str
    profile: str | None
    dialect: str
    version: str | None = None
    model_paths: tuple[str, ...] = ("models",)
    seed_paths: tuple[str, ...] = ("seeds",)
    test_paths: tuple[str, ...] = ("tests",)
    macro_paths: tuple[str, ...] = ("macros",)
    snapshot_paths: tuple[str, ...] = ("snapshots",)
    analysis_paths: tuple[str, ...] = ("analyses",)
    docs_paths: tuple[str, ...] = ()
    target_path: str = "target"
    clean_targets: tuple[str, ...] = ("target",)
    vars: Mapping[str, Any] = field(default_factory=dict)
    model_configs: Mapping[str, Any] = field(default_factory=dict)
    seed_configs: Mapping[str, Any] = field(default_factory=dict)
    test_configs: Mapping[str, Any] = field(default_factory=dict)
    snapshot_configs: Mapping[str, Any] = field(default_factory=dict)
    pools: Mapping[str, int] = field(default_factory=dict)  # concurrency pool -> the nodes it runs at once
    notifications: Notifications = NO_NOTIFICATIONS  # alert channels, sla, freshness deadlines
    schedules: tuple[ScheduleJob, ...] = ()  # the jobs of the built-in cron runner
    quoting: Mapping[str, bool] = field(default_factory=dict)  # dbt's `quoting:` of relation names
    on_run_start: tuple[RunHook, ...] = ()  # dbt's on-run-start / on-run-end statements
    on_run_end: tuple[RunHook, ...] = ()
    warnings: tuple[tuple[str, SourceLocation], ...] = ()  # what is accepted but likely wrong (a typo)
    run_audits: bool = False  # `flags: {run_audits: true}`: `sqlflow run` audits its models as build does


def project_file_in(root: Path) -> Path | None:
    """The project file of the folder `root`, or None."""
    for name in PROJECT_FILES:
        if (root / name).is_file():
            return root / name
    return None


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding sqlflow.yml or dbt_project.yml."""
    start = Path(start).absolute()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if project_file_in(candidate) is not None:
            return candidate
    raise ConfigError(
        f"no sqlflow.yml or dbt_project.yml in {folder} or any folder above it",
        hint="run 'sqlflow init' to create a project, or run from inside one",
    )


def read_project_file(root: Path) -> ProjectFile:
    """Read and validate the project file of `root`."""
    path = project_file_in(root)
    if path is None:
        raise ConfigError(
            f"no sqlflow.yml or dbt_project.yml in {root}",
            hint="run 'sqlflow init' to create a project",
        )
    shown = path.name
    doc = load_yaml(path, shown)
    if doc is None:
        doc = YamlMap()
    if not isinstance(doc, dict):
        raise ConfigError("the project file must be a mapping of keys", location=SourceLocation(shown, 1))
    for old, new in RENAMED_KEYS.items():
        if old in doc:
            raise ConfigError(
                f"'{old}' was renamed '{new}'", location=key_location(shown, doc, old), hint=f"write '{new}:'"
            )
    check_keys(shown, doc, USED_KEYS + TOLERATED_KEYS, "")

    name = expect_str(shown, doc, "name", "")
    if name is None:
        raise ConfigError(
            "missing key 'name'", location=SourceLocation(shown, 1), hint="add 'name: my_project'"
        )
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"project name '{name}' is not a valid identifier",
            location=key_location(shown, doc, "name"),
            hint="use letters, digits and underscores, not starting with a digit",
        )
    config_version = doc.get("config-version")
    if config_version is not None and config_version != 2:
        raise ConfigError(
            f"unsupported config-version {config_version!r}",
            location=key_location(shown, doc, "config-version"),
            hint="use config-version: 2 or leave it out",
        )
    dialect = expect_str(shown, doc, "dialect", "", default="duckdb").strip().lower()
    target_path = expect_str(shown, doc, "target-path", "", default="target")

    def paths(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = expect_str_list(shown, doc, key, "")
        return default if value is None else tuple(p.rstrip("/") or "." for p in value)

    warnings: list[tuple[str, SourceLocation]] = []

    def tree(key: str) -> dict[str, Any]:
        raw = expect_map(shown, doc, key, "")
        normalised = normalise_tree(raw, path=shown, context=key, warn=lambda m, at: warnings.append((m, at)))
        return strip_project_level(normalised, name)

    test_configs = deep_merge_tree(tree("tests"), tree("data_tests"))
    return ProjectFile(
        file=shown,
        name=name,
        profile=expect_str(shown, doc, "profile", ""),
        dialect=dialect,
        version=expect_str(shown, doc, "version", ""),
        model_paths=paths("model-paths", ("models",)),
        seed_paths=paths("seed-paths", ("seeds",)),
        test_paths=paths("test-paths", ("tests",)),
        macro_paths=paths("macro-paths", ("macros",)),
        snapshot_paths=paths("snapshot-paths", ("snapshots",)),
        analysis_paths=paths("analysis-paths", ("analyses",)),
        docs_paths=paths("docs-paths", ()),
        target_path=target_path,
        clean_targets=paths("clean-targets", (target_path,)),
        vars=_project_vars(shown, doc, name),
        model_configs=tree("models"),
        seed_configs=tree("seeds"),
        test_configs=test_configs,
        snapshot_configs=tree("snapshots"),
        pools=_pools(shown, doc),
        notifications=read_notifications(shown, doc),
        schedules=read_schedules(shown, doc),
        quoting=_quoting(shown, doc),
        on_run_start=read_run_hooks(shown, doc, "on-run-start"),
        on_run_end=read_run_hooks(shown, doc, "on-run-end"),
        warnings=tuple(warnings),
        run_audits=_run_audits(shown, doc),
    )


def _quoting(shown: str, doc: Mapping[str, Any]) -> dict[str, bool]:
    """`quoting: {database: true, schema: true, identifier: false}`: which parts of relation names are
    quoted in ref() and this (dbt-duckdb quotes all three by default)."""
    raw = expect_map(shown, doc, "quoting", "")
    check_keys(shown, raw, ("database", "schema", "identifier", "column"), "quoting")
    out = {}
    for key, value in raw.items():
        if not isinstance(value, bool):
            raise wrong_type(shown, raw, key, "true or false", "quoting")
        out[str(key)] = value
    return out


def _run_audits(shown: str, doc: Mapping[str, Any]) -> bool:
    """`flags: {run_audits: true}`: sqlflow's own flag; dbt's flags beside it are read and ignored."""
    raw = expect_map(shown, doc, "flags", "")
    for key in raw:
        if key != "run_audits" and str(key).replace("-", "_").lower().rstrip("s") == "run_audit":
            raise ConfigError(
                f"unknown flag '{key}' under flags",
                location=key_location(shown, raw, key),
                hint="did you mean 'run_audits'?",
            )
    value = raw.get("run_audits", False)
    if not isinstance(value, bool):
        raise wrong_type(shown, raw, "run_audits", "true or false", "flags")
    return value


def _pools(shown: str, doc: Mapping[str, Any]) -> dict[str, int]:
    """`pools: {heavy: 1, api: 4}`: how many nodes of each pool may run at once."""
    raw = expect_map(shown, doc, "pools", "")
    out = {}
    for name, size in raw.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(
                f"pool '{name}' must be a whole number of at least 1, not {size!r}",
                location=key_location(shown, raw, name),
                hint="write pools: {heavy: 1}",
            )
        out[str(name)] = size
    return out


def _project_vars(shown: str, doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    """`vars:` with the project's own scope (`vars: {shop: {x: 1}}`) lifted to the top, as dbt resolves it."""
    value = doc.get("vars")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong_type(shown, doc, "vars", "a mapping", "")
    out = plain(value)
    scoped = out.pop(name, None)
    if isinstance(scoped, dict):
        out.update(scoped)
    elif scoped is not None:
        out[name] = scoped
    return out
