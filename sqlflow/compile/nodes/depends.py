"""Dependencies sqlflow cannot read from SQL: the `depends_on` config (`sensor:landing_file`, a model or
seed name, `source:<source>.<table>`) and the file sensors guarding the files a model reads
(`read_csv('landing/*.csv')` waits for a file sensor on `landing/*.csv` or `landing/orders.csv`).

`extra_depends` gathers both for the compiler; the rest are pure functions over names and paths. Errors
carry the file:line where the item is written. Imports neither jinja2 nor sqlglot.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from sqlflow.compile.lookup import Lookup
from sqlflow.compile.nodes.drafts import Draft
from sqlflow.errors import ConfigError, SourceLocation, UnknownRefError, did_you_mean
from sqlflow.manifest import SensorNode, TestNode
from sqlflow.project.config import folder_config
from sqlflow.project.types import Project

PREFIXES = ("sensor", "source", "model", "seed")
FORMS = "write sensor:<name>, source:<source>.<table>, or the name of a model or seed"


def extra_depends(
    p: Project,
    lookup: Lookup,
    drafts: Sequence[Draft],
    tests: Sequence[TestNode],
    sensors: Sequence[SensorNode],
) -> dict[str, set[str]]:
    """Unique id -> the extra dependencies of the node: its `depends_on` config, and for a model the file
    sensors covering the files it reads. Only nodes that have any are listed."""
    by_name = {s.name: s.unique_id for s in sensors}
    file_sensors = [
        (s.unique_id, normal_path(str(s.params["path"]), p.root)) for s in sensors if s.kind == "file"
    ]
    out: dict[str, set[str]] = {}
    for draft in drafts:
        config, compiled = draft.config, draft.compiled
        found: set[str] = set()
        if config is not None and config.depends_on:
            found |= explicit_depends(
                config.depends_on, lookup=lookup, sensors=by_name, locate=_locator(p, draft)
            )
        if file_sensors and compiled is not None and compiled.file_reads and draft.kind == "model":
            found |= file_sensor_depends(compiled.file_reads, file_sensors, p.root)
        if found:
            out[draft.unique_id] = found
    for test in tests:
        if test.config.depends_on:

            def locate(item: str, test: TestNode = test) -> SourceLocation:
                if item in folder_config(p.test_configs, test.fqn).get("depends_on", ()):
                    return line_in(p.root / p.config_file, p.config_file, item)
                return SourceLocation(test.path, test.line)

            out[test.unique_id] = explicit_depends(
                test.config.depends_on, lookup=lookup, sensors=by_name, locate=locate
            )
    return out


def _locator(p: Project, draft: Draft) -> Callable[[str], SourceLocation]:
    """Where a `depends_on` item of `draft` is written: config(), its property YAML, or sqlflow.yml."""

    def locate(item: str) -> SourceLocation:
        for config, location in reversed(draft.rendered.configs if draft.rendered else ()):
            if item in config.get("depends_on", ()):
                return location
        props = draft.properties
        if props is not None and item in props.config.get("depends_on", ()):
            return SourceLocation(props.path, props.config_lines.get("depends_on", props.line))
        return line_in(p.root / p.config_file, p.config_file, item)

    return locate


def explicit_depends(
    items: Iterable[str],
    *,
    lookup: Lookup,
    sensors: Mapping[str, str],
    locate: Callable[[str], SourceLocation],
) -> set[str]:
    """The unique ids the `depends_on` items name; `sensors` maps sensor names to unique ids, `locate`
    tells where an item is written (called only for an error)."""
    out: set[str] = set()
    for item in items:
        prefix, colon, name = item.partition(":")
        if not colon:
            out.add(_node(item, lookup, sensors, locate))
        elif prefix == "sensor":
            if name not in sensors:
                raise UnknownRefError(
                    f"unknown sensor '{name}' in depends_on",
                    location=locate(item),
                    hint=did_you_mean(name, sensors) or _no_sensors(sensors),
                )
            out.add(sensors[name])
        elif prefix == "source":
            source, dot, table = name.partition(".")
            if not dot:
                raise ConfigError(
                    f"bad depends_on item '{item}'",
                    location=locate(item),
                    hint="write source:<source>.<table>",
                )
            out.add(lookup.source((source, table), locate(item)).unique_id)
        elif prefix in ("model", "seed"):
            out.add(_node(name, lookup, sensors, locate, item))
        else:
            raise ConfigError(
                f"unknown kind '{prefix}' in depends_on item '{item}'",
                location=locate(item),
                hint=did_you_mean(prefix, PREFIXES) or FORMS,
            )
    return out


def _node(
    name: str,
    lookup: Lookup,
    sensors: Mapping[str, str],
    locate: Callable[[str], SourceLocation],
    item: str | None = None,
) -> str:
    found = lookup.by_name.get(name)
    if found is not None:
        return found.unique_id
    written = item or name
    if name in lookup.disabled:
        raise UnknownRefError(
            f"depends_on names the disabled model '{name}'",
            location=locate(written),
            hint=f"{lookup.disabled[name]} has enabled: false",
        )
    candidates = [*lookup.by_name, *(f"sensor:{s}" for s in sensors)]
    raise UnknownRefError(
        f"unknown node '{name}' in depends_on",
        location=locate(written),
        hint=did_you_mean(name, candidates) or FORMS,
    )


def _no_sensors(sensors: Mapping[str, str]) -> str | None:
    return None if sensors else "no sensor is declared; declare one under sensors: in a property file"


def line_in(path: Path, shown: str, text: str) -> SourceLocation:
    """The first line of the file `path` holding `text` (a config written in sqlflow.yml), else the file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return SourceLocation(shown)
    for number, line in enumerate(lines, 1):
        if text in line:
            return SourceLocation(shown, number)
    return SourceLocation(shown)


# -- files read and the file sensors that guard them ----------------------------------------------------


def normal_path(path: str, root: Path) -> str:
    """A file path or glob as sqlflow compares them: relative to the project root when it lies under it,
    forward slashes, no `./` or `..` steps; URLs (`s3://...`) as written.

    >>> normal_path("./landing/../landing/x.csv", Path("/p")), normal_path("/p/landing/*.csv", Path("/p"))
    ('landing/x.csv', 'landing/*.csv')
    >>> normal_path("/data/x.csv", Path("/p")), normal_path("s3://b/k.csv", Path("/p"))
    ('/data/x.csv', 's3://b/k.csv')
    """
    if "://" in path:
        return path
    text = posixpath.normpath(path.replace("\\", "/"))
    if posixpath.isabs(text):
        base = posixpath.normpath(root.as_posix())
        if text == base or text.startswith(base.rstrip("/") + "/"):
            return posixpath.relpath(text, base)
    return text


def covers(sensor_glob: str, read: str) -> bool:
    """Whether a file sensor's glob guards a path (or glob) a model reads: the same pattern, the read path
    matched by the sensor's glob, or the sensor's path matched by the read glob (both normalised).

    >>> covers("landing/*.csv", "landing/orders.csv"), covers("landing/orders.csv", "landing/*.csv")
    (True, True)
    >>> covers("landing/*.csv", "landing/x.parquet"), covers("landing/*.csv", "landing/*.csv")
    (False, True)
    """
    return sensor_glob == read or fnmatchcase(read, sensor_glob) or fnmatchcase(sensor_glob, read)


def file_sensor_depends(
    reads: Iterable[str], file_sensors: Sequence[tuple[str, str]], root: Path
) -> set[str]:
    """The unique ids of the file sensors (uid, normalised glob) covering any of the files `reads`."""
    out: set[str] = set()
    for read in reads:
        path = normal_path(read, root)
        out.update(uid for uid, glob in file_sensors if covers(glob, path))
    return out
