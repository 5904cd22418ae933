"""Read a YAML file into plain Python data that remembers the line of every key and list item.

Mappings load as `YamlMap` (a dict with `line` and `key_lines`), lists as `YamlList` (a list with `line` and
`item_lines`); mapping keys are always the strings as written (no YAML 1.1 `on:` -> True surprise), and
`06:30` or `1:30` stay strings (no YAML 1.1 base-60 numbers: `at: 16:30` is a time, not 990).
The small `expect_*` checks here turn a wrong shape into a one-line ConfigError naming file:line.
Imports only `sqlflow.errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlMap(dict[str, Any]):
    """A YAML mapping: `line` is where it starts, `key_lines[key]` where each key is written (1-based)."""

    line: int | None = None
    key_lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}


class YamlList(list[Any]):
    """A YAML sequence: `line` is where it starts, `item_lines[i]` where item i starts (1-based)."""

    line: int | None = None
    item_lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines = []


class _Loader(_BaseLoader):  # type: ignore[valid-type, misc]
    shown: str = "<yaml>"


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = YamlMap()
    data.line = node.start_mark.line + 1
    yield data
    own = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    first_own = len(node.value) - own
    seen: set[str] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigError(
                "a mapping key must be a plain value", location=SourceLocation(loader.shown, line)
            )
        key = str(key_node.value)
        if index >= first_own:
            if key in seen:
                raise ConfigError(
                    f"duplicate key '{key}' (first at line {data.key_lines[key]})",
                    location=SourceLocation(loader.shown, line),
                    hint="keep one of them",
                )
            seen.add(key)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Any:
    data = YamlList()
    data.line = node.start_mark.line + 1
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(item.start_mark.line + 1)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)

# YAML 1.1 numbers without the base-60 forms (`1:30` -> 90): such values stay strings, as in YAML 1.2.
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def load_yaml(path: Path, shown: str) -> Any:
    """The document in `path` (None when empty); `shown` is the path used in messages.

    Syntax errors become a ConfigError at the line YAML reports.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", location=SourceLocation(shown), hint="save it as UTF-8") from exc
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str) -> Any:
    """Like `load_yaml` for text already read."""
    loader = _Loader(text)
    loader.shown = shown
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        last_line = max(1, len(text.rstrip("\n").split("\n")))  # a problem at the end: the last line
        line = min(mark.line + 1, last_line) if mark is not None else None
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError(
            f"invalid YAML: {problem}",
            location=SourceLocation(shown, line),
            hint="check the indentation and quoting on this line and the one above",
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", location=SourceLocation(shown)) from exc
    finally:
        loader.dispose()


def plain(value: Any) -> Any:
    """`value` with every YamlMap/YamlList turned into a plain dict/list."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def key_location(shown: str, container: Any, key: str | None = None) -> SourceLocation:
    """Where `key` of `container` (or the container itself) is written."""
    line = getattr(container, "line", None)
    if key is not None and isinstance(container, YamlMap):
        line = container.key_lines.get(key, line)
    return SourceLocation(shown, line)


def item_location(shown: str, container: Any, index: int) -> SourceLocation:
    """Where item `index` of a YamlList is written."""
    lines = getattr(container, "item_lines", None)
    if lines and index < len(lines):
        return SourceLocation(shown, lines[index])
    return SourceLocation(shown, getattr(container, "line", None))


def kind(value: Any) -> str:
    """How a YAML value is called in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _under(context: str) -> str:
    return f" under {context}" if context else ""


def wrong_type(shown: str, container: Any, key: str, expected: str, context: str) -> ConfigError:
    """The error for `container[key]` not having the `expected` shape."""
    return ConfigError(
        f"'{key}'{_under(context)} must be {expected}, not {kind(container[key])}",
        location=key_location(shown, container, key),
    )


def check_keys(
    shown: str, mapping: Mapping[str, Any], allowed: Collection[str], context: str, *, what: str = "key"
) -> None:
    """ConfigError (with did-you-mean) for the first key of `mapping` not in `allowed`."""
    for key in mapping:
        if key not in allowed:
            raise ConfigError(
                f"unknown {what} '{key}'{_under(context)}",
                location=key_location(shown, mapping, key),
                hint=did_you_mean(key, allowed),
            )


def warn_unknown_keys(
    shown: str,
    mapping: Mapping[str, Any],
    allowed: Collection[str],
    context: str,
    warn: Callable[[str, SourceLocation], None],
) -> None:
    """For keys dbt ignores with a warning: each key of `mapping` not in `allowed` to `warn`, with its line
    and a did-you-mean."""
    for key in mapping:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            warn(
                f"unknown key '{key}'{_under(context)} is ignored" + (f" ({hint})" if hint else ""),
                key_location(shown, mapping, key),
            )


def expect_map(shown: str, container: Any, key: str, context: str) -> YamlMap:
    """`container[key]` as a mapping (empty when missing or null)."""
    value = container.get(key)
    if value is None:
        return YamlMap()
    if not isinstance(value, dict):
        raise wrong_type(shown, container, key, "a mapping", context)
    return value if isinstance(value, YamlMap) else YamlMap(value)


def expect_list(shown: str, container: Any, key: str, context: str) -> YamlList:
    """`container[key]` as a list (empty when missing or null)."""
    value = container.get(key)
    if value is None:
        return YamlList()
    if not isinstance(value, list):
        raise wrong_type(shown, container, key, "a list", context)
    return value if isinstance(value, YamlList) else YamlList(value)


def expect_str(shown: str, container: Any, key: str, context: str, default: Any = None) -> Any:
    """`container[key]` as a string; numbers are accepted and written out; `default` when missing or null."""
    value = container.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise wrong_type(shown, container, key, "a string", context)
    return str(value)


def expect_str_list(shown: str, container: Any, key: str, context: str) -> tuple[str, ...] | None:
    """`container[key]` as strings: one string or a list of them; None when missing."""
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise wrong_type(shown, container, key, "a string or a list of strings", context)
