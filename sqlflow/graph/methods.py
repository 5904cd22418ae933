"""The selector methods of `--select` / `--exclude`: one small function per method, in the table `METHODS`.

    fqn:x            node name, package, unique id, or a dotted fqn prefix with or without the package
    name:x           node name                      tag:x          any of the node's tags
    path:x           the node's file, or a folder holding it (relative to the project root)
    file:x           the file's name, with or without its extension
    package:x        the node's package             resource_type:x   model, seed, snapshot, test,
                                                                      source or sensor
    config.k[.k2]:x  NodeConfig field k (lists: any item; mappings: any key, or k2 looks inside;
                     booleans as true/false; tests count as materialized "test", as in dbt);
                     sources and sensors have no config and never match
    source:s[.t]     sources of source s (table t); source:package.s.t also works
    sensor:x         sensors named x (sensor:package.x also works)
    test_type:x      generic, singular, expectation or unit (dbt's old schema / data too)
    test_name:x      not_null, unique, ... a Great Expectations name, or a singular test's file stem
    result:x         the status of the node in the previous run (error, fail, skipped, ...)

A method takes the parsed value (and keys, for `config.<key>`) and returns a predicate over manifest nodes;
it raises SelectionError for a value it can never accept, before any node is looked at. Values may hold
shell wildcards (`fnmatch.fnmatchcase`, case-sensitive everywhere). Used by `sqlflow.graph.select`; imports
only `sqlflow.manifest`, `sqlflow.errors` and the stdlib.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Any

from sqlflow.errors import SelectionError, did_you_mean
from sqlflow.manifest import CONFIG_KEYS, Node, SensorNode, SourceNode, TestNode
from sqlflow.statuses import NODE_STATUSES

Predicate = Callable[[Node], bool]

RESOURCE_TYPES: tuple[str, ...] = ("model", "seed", "snapshot", "test", "source", "sensor")
TEST_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "generic": "generic",
        "singular": "singular",
        "expectation": "expectation",
        "unit": "unit",
        "schema": "generic",
        "data": "singular",
    }
)
RESULT_STATUSES = NODE_STATUSES


@dataclass(frozen=True, slots=True)
class MethodCall:
    """What a method matches: `config.materialized:view` is method "config", keys ("materialized",)."""

    text: str  # the whole selector part as written, for messages
    method: str
    keys: tuple[str, ...]
    value: str
    previous_results: Mapping[str, str] | None = None


def fqn_matches(node: Node, value: str) -> bool:
    """Whether a bare selector value names `node`: by name, unique id, or a dotted fqn prefix.

    A one-part value matches the node's name or its package; a dotted value matches the start of the fqn,
    with or without the leading package name. Each part may hold shell wildcards.

    >>> from sqlflow.manifest import SourceNode, Relation
    >>> node = SourceNode(unique_id="source.shop.shop.raw_orders", source_name="shop", name="raw_orders",
    ...     package_name="shop", path="models/sources.yml", line=3, fqn=("shop", "shop", "raw_orders"),
    ...     relation=Relation(database=None, schema="raw", identifier="orders"))
    >>> [fqn_matches(node, v) for v in ("raw_*", "shop", "shop.raw_orders", "shop.shop.raw_orders", "raw")]
    [True, True, True, True, False]
    """
    parts = value.split(".")
    if len(parts) == 1:
        return fnmatchcase(node.name, value) or fnmatchcase(node.package_name, value)
    return (
        fnmatchcase(node.unique_id, value)
        or _starts_with(node.fqn, parts)
        or _starts_with(node.fqn[1:], parts)
    )


def path_matches(path: str, value: str) -> bool:
    """Whether the project-relative file `path` is `value` or lies in the folder `value` (wildcards per part).

    >>> [path_matches("models/staging/stg_orders.sql", v)
    ...  for v in ("models/staging", "./models/staging/", "models/*/stg_*.sql", "models/*.sql", ".")]
    [True, True, True, False, True]
    """
    value = value.replace("\\", "/").strip("/")
    while value.startswith("./"):
        value = value[2:]
    if value in ("", "."):
        return True
    return _starts_with(tuple(path.split("/")), value.split("/"))


def _starts_with(have: tuple[str, ...], patterns: list[str]) -> bool:
    return len(patterns) <= len(have) and all(map(fnmatchcase, have, patterns))


def _no_keys(make: Callable[[MethodCall], Predicate]) -> Callable[[MethodCall], Predicate]:
    def checked(call: MethodCall) -> Predicate:
        if call.keys:
            raise SelectionError(
                f"selector method '{call.method}' takes no key in '{call.text}'",
                hint=f"write {call.method}:{call.value}",
            )
        return make(call)

    return checked


@_no_keys
def _fqn(call: MethodCall) -> Predicate:
    return lambda node: fqn_matches(node, call.value)


@_no_keys
def _name(call: MethodCall) -> Predicate:
    return lambda node: fnmatchcase(node.name, call.value)


@_no_keys
def _tag(call: MethodCall) -> Predicate:
    return lambda node: any(fnmatchcase(tag, call.value) for tag in node.tags)


@_no_keys
def _path(call: MethodCall) -> Predicate:
    return lambda node: path_matches(node.path, call.value)


@_no_keys
def _file(call: MethodCall) -> Predicate:
    def match(node: Node) -> bool:
        base = posixpath.basename(node.path)
        return fnmatchcase(base, call.value) or fnmatchcase(posixpath.splitext(base)[0], call.value)

    return match


@_no_keys
def _package(call: MethodCall) -> Predicate:
    return lambda node: fnmatchcase(node.package_name, call.value)


def _config(call: MethodCall) -> Predicate:
    if not call.keys:
        raise SelectionError(
            f"selector method 'config' needs a key in '{call.text}'", hint="like config.materialized:table"
        )
    key, *inner = call.keys
    if key not in CONFIG_KEYS:
        raise SelectionError(
            f"unknown config key '{key}' in '{call.text}'", hint=did_you_mean(key, sorted(CONFIG_KEYS))
        )

    def match(node: Node) -> bool:
        if isinstance(node, SourceNode | SensorNode):
            return False
        value: Any = getattr(node.config, key)
        if key == "materialized" and isinstance(node, TestNode):
            value = "test"  # as in dbt; a test's config keeps the default "view"
        for name in inner:
            if not isinstance(value, Mapping) or name not in value:
                return False
            value = value[name]
        return _value_matches(value, call.value)

    return match


def _value_matches(value: Any, pattern: str) -> bool:
    """A config value against a pattern: lists match any item, mappings any key, booleans as true/false."""
    if value is None:
        return False
    if isinstance(value, Mapping):
        return any(fnmatchcase(str(key), pattern) for key in value)
    if isinstance(value, tuple | list | set | frozenset):
        return any(_value_matches(item, pattern) for item in value)
    if isinstance(value, bool):
        return str(value).lower() == pattern.lower()
    return fnmatchcase(str(value), pattern)


def _check_value(call: MethodCall, what: str, allowed: Collection[str]) -> None:
    if call.value not in allowed:
        raise SelectionError(
            f"unknown {what} '{call.value}' in '{call.text}'",
            hint=did_you_mean(call.value, allowed) or "one of: " + ", ".join(allowed),
        )


@_no_keys
def _resource_type(call: MethodCall) -> Predicate:
    _check_value(call, "resource type", RESOURCE_TYPES)
    return lambda node: node.resource_type == call.value


@_no_keys
def _source(call: MethodCall) -> Predicate:
    parts = call.value.split(".")
    if len(parts) > 3:
        raise SelectionError(
            f"bad source selector '{call.text}'", hint="write source:<source>, source:<source>.<table>"
        )
    patterns = [parts[0], "*"] if len(parts) == 1 else parts

    def match(node: Node) -> bool:
        if not isinstance(node, SourceNode):
            return False
        have = [node.package_name, node.source_name, node.name][-len(patterns) :]
        return all(map(fnmatchcase, have, patterns))

    return match


@_no_keys
def _sensor(call: MethodCall) -> Predicate:
    parts = call.value.split(".")
    if len(parts) > 2:
        raise SelectionError(f"bad sensor selector '{call.text}'", hint="write sensor:<name>")

    def match(node: Node) -> bool:
        if not isinstance(node, SensorNode):
            return False
        have = [node.package_name, node.name][-len(parts) :]
        return all(map(fnmatchcase, have, parts))

    return match


@_no_keys
def _test_type(call: MethodCall) -> Predicate:
    _check_value(call, "test type", tuple(TEST_TYPES))  # schema/data: dbt's old names
    return lambda node: isinstance(node, TestNode) and node.test_type == TEST_TYPES[call.value]


@_no_keys
def _test_name(call: MethodCall) -> Predicate:
    return lambda node: isinstance(node, TestNode) and fnmatchcase(node.test_name, call.value)


@_no_keys
def _result(call: MethodCall) -> Predicate:
    results = call.previous_results
    if results is None:
        raise SelectionError(f"'{call.text}' needs the results of a previous run", hint="run a command first")
    if not any(fnmatchcase(s, call.value) for s in {*RESULT_STATUSES, *results.values()}):
        _check_value(call, "result status", RESULT_STATUSES)
    return lambda node: node.unique_id in results and fnmatchcase(results[node.unique_id], call.value)


METHODS: Mapping[str, Callable[[MethodCall], Predicate]] = MappingProxyType(
    {
        "fqn": _fqn,
        "name": _name,
        "tag": _tag,
        "path": _path,
        "file": _file,
        "package": _package,
        "config": _config,
        "resource_type": _resource_type,
        "source": _source,
        "sensor": _sensor,
        "test_type": _test_type,
        "test_name": _test_name,
        "result": _result,
    }
)
