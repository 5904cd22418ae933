"""Project housekeeping: show, debug, dbt_report, clean and init from the template."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlflow.api.core import Options, compile_all, connect, engine_dialect, load
from sqlflow.errors import ConfigError, SelectionError, SqlflowError, did_you_mean
from sqlflow.manifest import Manifest, ModelNode
from sqlflow.project import project_root

if TYPE_CHECKING:
    from sqlflow.compile.dbt_report import Finding


def show(
    options: Options,
    *,
    model: str | None,
    inline: str | None,
    limit: int = 10,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Preview rows of a model (its relation, or its SQL when ephemeral) or of an inline query."""
    from sqlflow.compile import compile_inline

    compiled = compile_all(options)
    manifest, project = compiled.manifest, compiled.project
    if inline is not None:
        sql = compile_inline(manifest, project, inline, target_dialect=engine_dialect(project))
    elif model is not None:
        node = find_model(manifest, model)
        if node.config.materialized == "ephemeral":
            sql = node.compiled_sql or ""
        else:
            sql = f"select * from {node.relation.render()}"
    else:
        raise SelectionError("show needs a MODEL or --inline 'select ...'")
    if limit < 0:
        raise SelectionError("--limit must be 0 or more")
    adapter = connect(project)
    try:
        return adapter.fetch(f"select * from ({sql}) as sqlflow_preview limit {int(limit)}")
    finally:
        adapter.close()


def find_model(manifest: Manifest, name: str) -> ModelNode:
    for node in manifest.models():
        if node.name == name:
            return node
    names = [n.name for n in manifest.models()]
    raise SelectionError(f"no model named '{name}'", hint=did_you_mean(name, names) or "see 'sqlflow ls'")


def debug(options: Options) -> list[tuple[str, str, bool]]:
    """Checks of the setup: (what, detail, ok). Stops at the first failure that makes later checks moot."""
    import platform
    import sys

    from sqlflow import __version__

    checks: list[tuple[str, str, bool]] = [
        ("sqlflow", __version__, True),
        ("python", f"{platform.python_version()} ({sys.executable})", True),
    ]
    try:
        project = load(options)
    except SqlflowError as exc:
        checks.append(("project", str(exc), False))
        return checks
    checks.append(("project", f"{project.name} ({project.root / project.config_file})", True))

    target = project.target
    checks.append(
        (
            "profile",
            f"{target.profiles_file}: {target.profile_name}.{target.name}"
            if target.profiles_file
            else "no profiles.yml: embedded DuckDB default",
            True,
        )
    )
    where = target.settings.get("path") or target.settings.get("host") or ""
    checks.append(("target", f"{target.name} ({target.type}) {where} schema={target.schema}", True))
    try:
        adapter = connect(project)
        try:
            adapter.fetch("select 1")
        finally:
            adapter.close()
        checks.append(("connection", "ok", True))
    except SqlflowError as exc:
        checks.append(("connection", str(exc), False))
    return checks


def dbt_report(options: Options) -> list[Finding]:
    """What in the project (a dbt project, usually) sqlflow ignores or cannot do yet: `debug --dbt`.
    Scans the files as written, so it works on a project that does not load."""
    from sqlflow.compile.dbt_report import scan_project

    return scan_project(project_root(options.project_dir, Path.cwd()))


def clean(options: Options) -> list[Path]:
    """Remove the target folder (and the project's clean-targets); returns what was removed."""
    project = load(options)
    removed = []
    for name in dict.fromkeys((project.target_path, *project.clean_targets)):
        path = (project.root / name).resolve()
        if project.root.resolve() not in path.parents:
            raise ConfigError(f"clean-targets entry '{name}' lies outside the project", hint="remove it")
        if path.exists():
            shutil.rmtree(path)
            removed.append(path)
    return removed


def init_project(name: str, parent: Path) -> Path:
    """Copy the template project to parent/name, renamed to `name`."""
    if not name.isidentifier():
        raise ConfigError(
            f"'{name}' is not a valid project name",
            hint="use letters, digits and underscores, starting with a letter",
        )
    dest = parent / name
    if dest.exists():
        raise ConfigError(f"{dest} already exists", hint="choose another name or remove it")
    shutil.copytree(template_dir(), dest, ignore=shutil.ignore_patterns("target", "*.duckdb*", "__pycache__"))
    config = dest / "sqlflow.yml"
    text = config.read_text()
    text = text.replace("name: shop", f"name: {name}").replace("profile: shop", f"profile: {name}")
    text = text.replace("\n  shop:\n", f"\n  {name}:\n")
    config.write_text(text)
    return dest


def template_dir() -> Path:
    """The template project: beside the package in a checkout, or installed inside it."""
    package = Path(__file__).resolve().parent.parent  # sqlflow/, this module being sqlflow/api/project.py
    for candidate in (package.parent / "project_template", package / "project_template"):
        if (candidate / "sqlflow.yml").exists():
            return candidate
    raise SqlflowError("the project template is missing from this installation", hint="reinstall sqlflow")
