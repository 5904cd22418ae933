"""The dbt compatibility report (`sqlflow debug --dbt`): what in a dbt project sqlflow does not do (yet).

A scan of the files as written, before anything loads, so a project that does not load yet is reported
too: the project file's keys, packages.yml, property YAML, every SQL file and python models. Each
finding names file:line, says whether sqlflow ignores the thing (the relations are the same; something
around them, such as grants or persisted docs, is not done) or cannot do it (the project fails or builds
other results), and what to do. The lists of what is supported come from the modules that read them
(project.config, project.properties, compile.dbt_adapter), so the report follows them. Pure: reads files,
imports no driver, never renders Jinja.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlflow.compile.jinja.dbt_adapter import Adapter
from sqlflow.compile.nodes.builtin_tests import DBT_UTILS_TESTS
from sqlflow.errors import SqlflowError
from sqlflow.manifest import CONFIG_KEYS, MATERIALIZATIONS, UNBUILDABLE_STRATEGIES
from sqlflow.project.config import ENGINE_IGNORED_KEYS, IGNORED_DBT_KEYS, UNSUPPORTED_DBT_KEYS, config_key
from sqlflow.project.packages import DEFAULT_INSTALL_PATH, read_installed_packages
from sqlflow.project.properties import FILE_KEYS, FILE_TOLERATED
from sqlflow.project.yamlfile import YamlList, YamlMap, parse_yaml


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    path: str  # relative to the project root
    line: int | None
    kind: Literal["unsupported", "ignored"]  # unsupported: fails or builds other results
    what: str
    todo: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.kind}: {self.what}. {self.todo}"


# the project file's keys that sqlflow reads but does not act on, and what to do instead
PROJECT_KEYS: Mapping[str, tuple[Literal["unsupported", "ignored"], str, str]] = {
    "flags": ("ignored", "dbt flags are ignored", "Use sqlflow's command-line options instead."),
    "semantic-models": ("ignored", "semantic model configs are not used", "Nothing to do for the build."),
    "metrics": ("ignored", "metric configs are not used", "Nothing to do for the build."),
    "saved-queries": ("ignored", "saved query configs are not used", "Nothing to do for the build."),
    "exposures": ("ignored", "exposure configs are not used", "Nothing to do for the build."),
}
# property YAML sections sqlflow reads without using
PROPERTY_SECTIONS: Mapping[str, str] = {
    "semantic_models": "semantic models (the semantic layer) are not built or served",
    "metrics": "metrics (the semantic layer) are not computed",
    "saved_queries": "saved queries (the semantic layer) are not run",
    "exposures": "exposures are not shown in the docs site or the manifest",
    "groups": "groups (model access control) are not checked",
}
# what an ignored dbt config would have done, for the todo
IGNORED_TODO: Mapping[str, str] = {
    "persist_docs": "Descriptions stay in manifest.json and the docs site, not in warehouse comments.",
    "contract": "The contract is not enforced: add data tests (not_null, accepted_values ...) instead.",
    "grants": "Grant access outside sqlflow, or in a post_hook (`grant select on {{ this }} to ...`).",
    "access": "Model access (public/protected/private) is not checked.",
    "group": "Groups are not checked.",
}
KNOWN_PACKAGES = ("dbt_utils", "dbt_expectations", "dbt_date", "codegen", "audit_helper", "elementary")
_ADAPTER_CALL = re.compile(r"\badapter\.([A-Za-z_]\w*)")
_MATERIALIZATION_BLOCK = re.compile(r"{%-?\s*materialization\s+(\w+)")
_MACRO_DEF = re.compile(r"{%-?\s*(?:macro|test)\s+(\w+)")
_CONFIG_CALL = re.compile(r"\bconfig\s*\(")
_KEYWORD = re.compile(r"\b([A-Za-z_]\w*)\s*=(?!=)")
_MATERIALIZED = re.compile(r"""\bmaterialized\s*=\s*['"]([\w-]+)['"]""")


def scan_project(root: Path) -> list[Finding]:
    """Every finding of the project at `root`, by file and line."""
    project_file = next((root / n for n in ("sqlflow.yml", "dbt_project.yml") if (root / n).exists()), None)
    if project_file is None:
        raise SqlflowError(f"no dbt_project.yml or sqlflow.yml in {root}")
    findings: list[Finding] = []
    project = _yaml(root, project_file, findings)
    project = project if isinstance(project, YamlMap) else YamlMap()
    findings += _project_file(project_file.name, project)
    installed = _installed_packages(root, project, findings)
    packages = list(_package_names(root, findings, installed))
    sql_dirs = [*_paths(project, "model-paths", "models"), *_paths(project, "macro-paths", "macros")]
    sql_dirs += [*_paths(project, "test-paths", "tests"), *_paths(project, "snapshot-paths", "snapshots")]
    sql_dirs += _paths(project, "analysis-paths", "analyses")
    files = sorted({p for d in sql_dirs for p in (root / d).rglob("*") if p.is_file()})
    texts = {p: p.read_text(errors="replace") for p in files if p.suffix == ".sql"}
    defined = {m for text in texts.values() for m in _MACRO_DEF.findall(text)}
    adapter_methods = {name for name in dir(Adapter) if not name.startswith("_")}
    model_dirs = [root / d for d in _paths(project, "model-paths", "models")]
    for path in files:
        shown = path.relative_to(root).as_posix()
        if path.suffix == ".py" and any(path.is_relative_to(d) for d in model_dirs):
            findings.append(
                Finding(
                    path=shown,
                    line=1,
                    kind="unsupported",
                    what="python models are not run",
                    todo="Rewrite it in SQL, or build the table outside sqlflow and declare it as a source.",
                )
            )
        elif path.suffix == ".sql":
            findings += _sql_file(shown, texts[path], adapter_methods, packages, defined, installed)
        elif path.suffix in (".yml", ".yaml"):
            findings += _property_file(shown, _yaml(root, path, findings))
    return sorted(findings, key=lambda f: (f.path, f.line or 0))


def _paths(project: Mapping[str, Any], key: str, default: str) -> list[str]:
    value = project.get(key, [default])
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _yaml(root: Path, path: Path, findings: list[Finding]) -> Any:
    shown = path.relative_to(root).as_posix()
    try:
        return parse_yaml(path.read_text(), shown)
    except SqlflowError as exc:
        line = exc.location.line if exc.location else None
        findings.append(Finding(path=shown, line=line, kind="unsupported", what=str(exc), todo="Fix it."))
        return None


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _project_file(shown: str, project: YamlMap) -> Iterator[Finding]:
    for key, (kind, what, todo) in PROJECT_KEYS.items():
        if key in project and project[key] not in (None, [], {}):
            yield Finding(path=shown, line=project.key_lines.get(key), kind=kind, what=what, todo=todo)
    for section in ("models", "seeds", "snapshots", "tests", "data_tests"):
        tree = project.get(section)
        if isinstance(tree, YamlMap):
            yield from _config_tree(shown, tree, section)


def _config_tree(shown: str, tree: YamlMap, context: str) -> Iterator[Finding]:
    for key, value in tree.items():
        name = config_key(key)
        is_config = key.startswith("+") or name in IGNORED_DBT_KEYS or name in UNSUPPORTED_DBT_KEYS
        is_config = is_config or name in ENGINE_IGNORED_KEYS
        if is_config or (name in CONFIG_KEYS and not isinstance(value, Mapping)):
            yield from _config_value(shown, tree.key_lines.get(key), name, value, f"{context}.{key}")
        elif isinstance(value, YamlMap):
            yield from _config_tree(shown, value, f"{context}.{key}")


def _config_value(shown: str, line: int | None, name: str, value: Any, context: str) -> Iterator[Finding]:
    if name == "contract" and not (isinstance(value, Mapping) and value.get("enforced")):
        return  # a contract that enforces nothing changes nothing
    if name in IGNORED_DBT_KEYS:
        todo = IGNORED_TODO.get(name, "It has no effect in sqlflow; keep it for dbt or remove it.")
        yield Finding(path=shown, line=line, kind="ignored", what=f"config '{name}' ({context})", todo=todo)
    elif name in ENGINE_IGNORED_KEYS:
        yield Finding(
            path=shown,
            line=line,
            kind="ignored",
            what=f"config '{name}' ({context}) is ignored on duckdb/postgres",
            todo="It has no effect here, as in dbt-duckdb; keep it for other warehouses or remove it.",
        )
    elif name in UNSUPPORTED_DBT_KEYS:
        yield Finding(
            path=shown,
            line=line,
            kind="unsupported",
            what=f"config '{name}' ({context}) is not supported: sqlflow stops with an error",
            todo="Remove it (docs/dbt.md lists the configs sqlflow reads).",
        )
    elif name == "incremental_strategy" and value in UNBUILDABLE_STRATEGIES:
        yield Finding(
            path=shown,
            line=line,
            kind="unsupported",
            what=f"incremental_strategy '{value}' ({context}) is not available on duckdb/postgres: a first "
            "build creates the table, an incremental run fails",
            todo="Use append, merge or delete+insert.",
        )
    elif name == "materialized" and isinstance(value, str) and value not in MATERIALIZATIONS:
        yield _materialization(shown, line, value)


def _materialization(shown: str, line: int | None, name: str) -> Finding:
    return Finding(
        path=shown,
        line=line,
        kind="unsupported",
        what=f"materialization '{name}' is not one sqlflow knows",
        todo="Use table, view, incremental or ephemeral (custom materializations are not run).",
    )


def _installed_packages(root: Path, project: YamlMap, findings: list[Finding]) -> set[str]:
    """The names of the packages installed under dbt_packages/; those with models are reported (their
    macros are loaded, their models not built yet)."""
    try:
        found = read_installed_packages(
            root, str(project.get("packages-install-path") or DEFAULT_INSTALL_PATH)
        )
    except SqlflowError as exc:
        where = exc.location
        path, line = (where.path, where.line) if where else ("dbt_packages", None)
        findings.append(Finding(path=path, line=line, kind="unsupported", what=str(exc), todo="Fix it."))
        return set()
    for package in found:
        if package.model_count:
            count = f"{package.model_count} model{'s' if package.model_count > 1 else ''}"
            findings.append(
                Finding(
                    path=package.path,
                    line=None,
                    kind="unsupported",
                    what=f"package models are not built yet: {package.name}: {count}",
                    todo="Its macros work; build the models you need from the project's own models for now.",
                )
            )
    return {p.name for p in found}


def _package_names(root: Path, findings: list[Finding], installed: set[str]) -> Iterator[str]:
    """Each package of packages.yml / dependencies.yml not installed, reported, and its macro namespace
    yielded."""
    for name in ("packages.yml", "dependencies.yml"):
        path = root / name
        if not path.exists():
            continue
        doc = _yaml(root, path, findings)
        entries = doc.get("packages") if isinstance(doc, YamlMap) else None
        if not isinstance(entries, YamlList):
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            source = str(entry.get("package") or entry.get("git") or entry.get("local") or "?")
            namespace = source.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git").replace("-", "_")
            if namespace in installed:
                continue
            findings.append(
                Finding(
                    path=name,
                    line=entries.item_lines[i],
                    kind="unsupported",
                    what=f"package '{source}' is not installed (sqlflow has no `deps`)",
                    todo=(
                        "Copy the macros the project calls into macros/; dbt_utils' tests "
                        "unique_combination_of_columns, accepted_range and expression_is_true are built in."
                    ),
                )
            )
            yield namespace


def _sql_file(
    shown: str,
    text: str,
    adapter_methods: set[str],
    packages: list[str],
    defined: set[str],
    installed: set[str],
) -> Iterator[Finding]:
    for found in _MATERIALIZATION_BLOCK.finditer(text):
        yield Finding(
            path=shown,
            line=_line(text, found.start()),
            kind="unsupported",
            what=f"custom materialization '{found.group(1)}' is not run",
            todo="Models that use it need table, view, incremental or ephemeral.",
        )
    for found in _ADAPTER_CALL.finditer(text):
        if found.group(1) not in adapter_methods:
            yield Finding(
                path=shown,
                line=_line(text, found.start()),
                kind="unsupported",
                what=f"adapter.{found.group(1)} is not available in sqlflow's Jinja",
                todo="Rewrite it in SQL or with run_query (docs/dbt.md lists the adapter methods).",
            )
    namespaces = sorted({*packages, *KNOWN_PACKAGES} - installed)
    calls = re.compile(r"\b(" + "|".join(map(re.escape, namespaces)) + r")\.(\w+)\s*\(")
    for found in calls.finditer(text):
        package, macro = found.groups()
        yield Finding(
            path=shown,
            line=_line(text, found.start()),
            kind="unsupported",
            what=f"{package}.{macro}() needs the {package} package, which sqlflow does not install",
            todo=(
                f"Copy the macro into macros/ and call it as {macro}()"
                + (" (a macro of that name is already there)" if macro in defined else "")
                + "."
            ),
        )
    for found in _CONFIG_CALL.finditer(text):
        end = text.find(")", found.end())
        body = text[found.end() : end if end >= 0 else len(text)]
        line = _line(text, found.start())
        for keyword in _KEYWORD.findall(body):
            if keyword != "materialized":
                yield from _config_value(shown, line, config_key(keyword), True, "config()")
        materialized = _MATERIALIZED.search(body)
        if materialized and materialized.group(1) not in MATERIALIZATIONS:
            yield _materialization(shown, line, materialized.group(1))


def _property_file(shown: str, doc: Any) -> Iterator[Finding]:
    if not isinstance(doc, YamlMap):
        return
    for section, what in PROPERTY_SECTIONS.items():
        if doc.get(section):
            yield Finding(
                path=shown,
                line=doc.key_lines.get(section),
                kind="ignored",
                what=what,
                todo="The models build the same; nothing to do unless you use them.",
            )
    for key in doc:
        if key not in FILE_KEYS + FILE_TOLERATED:  # dbt warns and ignores it, and so does sqlflow
            yield Finding(
                path=shown,
                line=doc.key_lines.get(key),
                kind="ignored",
                what=f"unknown key '{key}' of a property file is ignored",
                todo="Remove it, or move what it holds under a key dbt reads (models:, sources: ...).",
            )
    for section in ("models", "seeds", "snapshots"):
        nodes = doc.get(section)
        if not isinstance(nodes, YamlList):
            continue
        for node in nodes:
            if isinstance(node, YamlMap):
                yield from _node_properties(shown, node, section)


def _node_properties(shown: str, node: YamlMap, section: str) -> Iterator[Finding]:
    name = node.get("name", "?")
    if node.get("versions"):
        yield Finding(
            path=shown,
            line=node.key_lines.get("versions"),
            kind="unsupported",
            what=f"model versions of '{name}' are not built",
            todo="Keep one version per model name (a file per version, each with its own name).",
        )
    for item in [node, *(c for c in node.get("columns") or () if isinstance(c, YamlMap))]:
        for key in ("data_tests", "tests"):
            tests = item.get(key)
            if not isinstance(tests, YamlList):
                continue
            for i, test in enumerate(tests):
                test_name = next(iter(test), "") if isinstance(test, Mapping) else str(test)
                package, dot, short = str(test_name).rpartition(".")
                if dot and not (package == "dbt_utils" and short in DBT_UTILS_TESTS):
                    yield Finding(
                        path=shown,
                        line=tests.item_lines[i],
                        kind="unsupported",
                        what=f"test '{test_name}' needs the {package} package, not installed by sqlflow",
                        todo="Copy its {% test %} macro into macros/ and drop the prefix.",
                    )
    config = node.get("config")
    if isinstance(config, YamlMap):
        for key, value in config.items():
            yield from _config_value(shown, config.key_lines.get(key), config_key(key), value, f"{name}")
    constrained = [node] + [c for c in node.get("columns") or () if isinstance(c, YamlMap)]
    for item in constrained:
        if item.get("constraints"):
            yield Finding(
                path=shown,
                line=item.key_lines.get("constraints"),
                kind="ignored",
                what=f"constraints on {item.get('name', name)} are not created",
                todo="Add data tests (not_null, unique, relationships) for what they checked.",
            )
