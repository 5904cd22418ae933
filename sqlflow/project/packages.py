"""Packages installed under dbt_packages/ (as `dbt deps` leaves them) and the `dispatch:` search orders.

`read_installed_packages()` finds each `<packages-install-path>/*/dbt_project.yml` and gives the package's
name and macro files (its `macro-paths`, and the `{% test %}` blocks of `<test-paths>/generic/`) as an
`InstalledPackage`; its models are only counted (they do not join the DAG yet). `read_dispatch()` reads
`dispatch: [{macro_namespace: x, search_order: [a, b]}]`. Imports only `sqlflow.errors` and this package.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project.discovery import discover
from sqlflow.project.projectfile import project_file_in
from sqlflow.project.types import InstalledPackage
from sqlflow.project.yamlfile import (
    YamlMap,
    expect_list,
    expect_str,
    expect_str_list,
    item_location,
    key_location,
    load_yaml,
)

DEFAULT_INSTALL_PATH = "dbt_packages"


def read_project_keys(root: Path) -> tuple[str, YamlMap]:
    """The project file's name (as shown in messages) and its document, for the keys read here."""
    path = project_file_in(root)
    if path is None:
        return "", YamlMap()
    doc = load_yaml(path, path.name)
    return path.name, doc if isinstance(doc, YamlMap) else YamlMap()


def install_path(shown: str, doc: YamlMap) -> str:
    """`packages-install-path` (default dbt_packages), relative to the project root."""
    return str(expect_str(shown, doc, "packages-install-path", "", DEFAULT_INSTALL_PATH))


def read_installed_packages(root: Path, packages_path: str) -> tuple[InstalledPackage, ...]:
    """Each package folder of `root/packages_path` holding a dbt_project.yml, sorted by name; two folders
    naming one package are an error."""
    folder = root / packages_path
    try:
        entries = sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    found: dict[str, InstalledPackage] = {}
    for entry in entries:
        project_file = folder / entry / "dbt_project.yml"
        if not project_file.is_file():
            continue
        package = _read_package(root, folder / entry, f"{_rel(root, folder)}/{entry}")
        if package.name in found:
            raise ConfigError(
                f"package '{package.name}' is installed twice",
                location=SourceLocation(f"{package.path}/dbt_project.yml"),
                hint=f"also in {found[package.name].path}; remove one folder (or run `dbt deps` again)",
            )
        found[package.name] = package
    return tuple(sorted(found.values(), key=lambda p: p.name))


def _rel(root: Path, folder: Path) -> str:
    return os.path.relpath(folder, root).replace(os.sep, "/")


def _read_package(root: Path, folder: Path, rel: str) -> InstalledPackage:
    shown = f"{rel}/dbt_project.yml"
    doc = load_yaml(folder / "dbt_project.yml", shown)
    doc = doc if isinstance(doc, YamlMap) else YamlMap()
    name = expect_str(shown, doc, "name", "")
    if not name:
        raise ConfigError("a package's dbt_project.yml must have a name", location=SourceLocation(shown, 1))

    def paths(key: str, default: str) -> tuple[str, ...]:
        return expect_str_list(shown, doc, key, "") or (default,)

    files = discover(
        folder,
        model_paths=paths("model-paths", "models"),
        seed_paths=(),
        test_paths=paths("test-paths", "tests"),
        macro_paths=paths("macro-paths", "macros"),
        target_path=str(expect_str(shown, doc, "target-path", "", "target")),
        docs_paths=(),
    )
    # paths from the project root: messages name the file, and template names stay unique across packages
    macro_files = tuple(replace(f, path=f"{rel}/{f.path}") for f in files.macro_files)
    return InstalledPackage(name=name, path=rel, macro_files=macro_files, model_count=len(files.model_files))


def read_dispatch(shown: str, doc: YamlMap) -> dict[str, tuple[str, ...]]:
    """`dispatch:` as macro_namespace -> search_order."""
    out: dict[str, tuple[str, ...]] = {}
    entries = expect_list(shown, doc, "dispatch", "")
    for index, entry in enumerate(entries):
        if not isinstance(entry, YamlMap):
            raise ConfigError(
                "each dispatch entry must be a mapping with macro_namespace and search_order",
                location=item_location(shown, entries, index),
            )
        namespace = expect_str(shown, entry, "macro_namespace", "dispatch")
        order = expect_str_list(shown, entry, "search_order", "dispatch")
        if not namespace or not order:
            raise ConfigError(
                "a dispatch entry needs macro_namespace and search_order",
                location=item_location(shown, entries, index),
                hint="dispatch: [{macro_namespace: dbt_utils, search_order: [my_project, dbt_utils]}]",
            )
        if namespace in out:
            raise ConfigError(
                f"dispatch for macro_namespace '{namespace}' is given twice",
                location=key_location(shown, entry, "macro_namespace"),
            )
        out[namespace] = order
    return out
