"""Find the files of a project: models, seeds, singular tests, macros, snapshots and property YAML.

Each configured folder is walked once with os.scandir (hidden folders, the target path and installed
packages skipped); each file is read once and hashed with sha256. Paths are relative to the project root
with forward slashes, sorted. Imports only `sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project.types import SourceFile

NOT_PROPERTY_FILES = frozenset(
    {"sqlflow.yml", "dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml", "selectors.yml"}
)
SKIPPED_FOLDERS = ("dbt_packages",)
GENERIC_TESTS_FOLDER = "generic"  # tests/generic/*.sql hold `{% test %}` blocks: macros, as in dbt


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovered:
    """The files of a project, each group sorted by path."""

    model_files: tuple[SourceFile, ...]
    seed_files: tuple[SourceFile, ...]
    test_files: tuple[SourceFile, ...]
    macro_files: tuple[SourceFile, ...]
    property_files: tuple[tuple[str, Path], ...]  # (relative path, absolute path)
    snapshot_files: tuple[SourceFile, ...] = ()
    analysis_files: tuple[SourceFile, ...] = ()
    doc_files: tuple[SourceFile, ...] = ()  # Markdown files that may hold `{% docs %}` blocks


def discover(
    root: Path,
    *,
    model_paths: Iterable[str],
    seed_paths: Iterable[str],
    test_paths: Iterable[str],
    macro_paths: Iterable[str],
    target_path: str,
    snapshot_paths: Iterable[str] = (),
    analysis_paths: Iterable[str] = (),
    docs_paths: Iterable[str] | None = None,
) -> Discovered:
    """Walk the project's folders and read the files found. `docs_paths` None: Markdown files are looked
    for in every other folder, as dbt does without `docs-paths`."""
    skip = {os.path.normpath(root / target_path)} | {os.path.normpath(root / s) for s in SKIPPED_FOLDERS}
    walks: dict[str, list[tuple[str, str]]] = {}

    def files(folders: Iterable[str], *suffixes: str) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        for folder in folders:
            if folder not in walks:
                walks[folder] = _walk(root, folder, skip)
            found.update((rel, path) for rel, path in walks[folder] if rel.endswith(suffixes))
        return sorted(found.items())

    generic = tuple(f"{_prefix(p)}{GENERIC_TESTS_FOLDER}/" for p in test_paths)
    tests = files(test_paths, ".sql")
    singular_tests = [(rel, path) for rel, path in tests if not rel.startswith(generic)]
    macros = sorted([*files(macro_paths, ".sql"), *(t for t in tests if t[0].startswith(generic))])
    snapshot_paths = list(snapshot_paths)
    analysis_paths = list(analysis_paths)
    model_paths, seed_paths, test_paths = list(model_paths), list(seed_paths), list(test_paths)
    macro_paths = list(macro_paths)
    if docs_paths is None:
        docs_paths = [*model_paths, *seed_paths, *test_paths, *macro_paths, *snapshot_paths, *analysis_paths]
    property_paths = [*model_paths, *seed_paths, *test_paths, *snapshot_paths, *analysis_paths]
    properties = [
        (rel, Path(path))
        for rel, path in files(property_paths, ".yml", ".yaml")
        if rel.rsplit("/", 1)[-1] not in NOT_PROPERTY_FILES
    ]
    return Discovered(
        model_files=tuple(_read(rel, path) for rel, path in files(model_paths, ".sql")),
        seed_files=tuple(_read(rel, path, text=False) for rel, path in files(seed_paths, ".csv")),
        test_files=tuple(_read(rel, path) for rel, path in singular_tests),
        macro_files=tuple(_read(rel, path) for rel, path in macros),
        property_files=tuple(properties),
        snapshot_files=tuple(_read(rel, path) for rel, path in files(snapshot_paths, ".sql")),
        analysis_files=tuple(_read(rel, path) for rel, path in files(analysis_paths, ".sql")),
        doc_files=tuple(_read(rel, path) for rel, path in files(docs_paths, ".md") if _has_docs(path)),
    )


def _has_docs(path: str) -> bool:
    """Whether a Markdown file may hold a docs block (README files mostly do not: skip reading them)."""
    with open(path, "rb") as handle:
        return b"{%" in handle.read()


def _walk(root: Path, folder: str, skip: set[str]) -> list[tuple[str, str]]:
    """(relative path, absolute path) of each file under `root/folder`, but in hidden or skipped folders."""
    out: list[tuple[str, str]] = []
    stack = [(os.path.normpath(root / folder), _prefix(folder))]
    while stack:
        directory, rel = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if entry.path not in skip:
                    stack.append((entry.path, f"{rel}{entry.name}/"))
            elif entry.is_file():
                out.append((f"{rel}{entry.name}", entry.path))
    return out


def _prefix(folder: str) -> str:
    """The relative path of files directly in `folder`: "models/" ("" for the root)."""
    folder = os.path.normpath(folder).replace(os.sep, "/")
    return "" if folder == "." else folder + "/"


def _read(rel: str, path: str, *, text: bool = True) -> SourceFile:
    """A SourceFile for one file; seeds (`text=False`) are hashed without being kept in memory."""
    with open(path, "rb") as handle:
        if not text:
            return SourceFile(
                path=rel,
                abs_path=Path(path),
                text="",
                checksum=hashlib.file_digest(handle, "sha256").hexdigest(),
            )
        data = handle.read()
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "not UTF-8 text", location=SourceLocation(rel), hint="save the file as UTF-8"
        ) from exc
    return SourceFile(path=rel, abs_path=Path(path), text=decoded, checksum=hashlib.sha256(data).hexdigest())
