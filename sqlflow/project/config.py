"""Node configs as users write them (`+materialized: view`, `pre-hook:`) -> validated, normalised dicts.

`normalise_config` checks one config mapping against `manifest.CONFIG_KEYS`; `normalise_tree` checks a
`models:` / `seeds:` / `tests:` tree of sqlflow.yml; `folder_config` merges a tree along a node's fqn;
`merge_config` is the one merge rule (tags, hooks and depends_on add up, meta/docs/column_types update, the
rest replace). `normalise_sensor` / `poke_settings` check the re-poke settings of a sensor or sensor-test.
Imports only `sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.manifest import CONFIG_CHOICES, CONFIG_KEYS, NodeConfig
from sqlflow.project.poke import merge_sensor, normalise_sensor
from sqlflow.project.yamlfile import YamlMap, kind, plain

CHOICES = CONFIG_CHOICES
# dbt configs read and ignored: they govern grants, docs persisted in the warehouse, contracts and the
# like, not what a relation holds (docs/dbt.md lists them)
IGNORED_DBT_KEYS = frozenset(
    {"persist_docs", "grants", "contract", "access", "group", "event_time", "quoting", "packages",
     "indexes", "on_configuration_change", "copy_grants", "sql_header", "labels", "transient",
     "store_failures_as", "query_tag", "static_analysis", "description"}
)  # fmt: skip
_MAPPING_DBT_KEYS = frozenset({"persist_docs", "grants", "contract", "quoting", "labels"})
# dbt configs of other warehouses (and of dbt-duckdb's external and python models) that dbt-duckdb
# ignores on a model: accepted with a warning
ENGINE_IGNORED_KEYS = frozenset(
    {"partition_by", "cluster_by", "file_format", "location", "options", "format", "plugin",
     "submission_method"}
)  # fmt: skip
# dbt configs that change what a relation holds and that sqlflow cannot do yet: an error naming them
UNSUPPORTED_DBT_KEYS = frozenset(
    {"snapshot_meta_column_names", "dbt_valid_to_current", "fail_calc", "merge_update_columns",
     "merge_exclude_columns"}
)  # fmt: skip
APPENDED_KEYS = frozenset({"tags", "pre_hook", "post_hook", "depends_on"})
UPDATED_KEYS = frozenset({"meta", "docs", "column_types"})
# receives a warning about a config that is accepted: (message, where)
Warn = Callable[[str, SourceLocation], None]


class _Bad(Exception):
    """A value of the wrong shape; `expected` says what was wanted."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _str(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad("a string")
    return str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _Bad("true or false")


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else _bool(value)


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _Bad("a whole number")


def _hook(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("sql"), str):
        return str(value["sql"])  # dbt's {sql: ..., transaction: ...} form
    if isinstance(value, str):
        return value
    raise _Bad("a string or a list of strings")


def _str_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _Bad("a string or a list of strings")


def _hooks(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(_hook(v) for v in items)


def _mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Bad("a mapping")
    return plain(dict(value))


def _str_mapping(value: Any) -> dict[str, str]:
    return {str(k): _str(v) for k, v in _mapping(value).items()}


# The coercion of each NodeConfig field, chosen by its annotation; hooks are lists of SQL or {sql: ...}.
_BY_ANNOTATION: Mapping[str, Callable[[Any], Any]] = {
    "bool": _bool,
    "bool | None": _opt_bool,
    "str": _str,
    "str | None": _opt_str,
    "int | None": _opt_int,
    "tuple[str, ...]": _str_tuple,
    "Mapping[str, Any]": _mapping,
    "Mapping[str, str]": _str_mapping,
}
_COERCE: Mapping[str, Callable[[Any], Any]] = {
    f.name: _BY_ANNOTATION.get(str(f.type), lambda v: v) for f in dataclasses.fields(NodeConfig)
} | {"pre_hook": _hooks, "post_hook": _hooks}


def config_key(key: str) -> str:
    """The normalised form of a config key: `+pre-hook` -> `pre_hook`."""
    return key.lstrip("+").replace("-", "_")


def _suggest(key: str, written: str) -> str | None:
    hint = did_you_mean(key, CONFIG_KEYS)
    if hint and "-" in written:
        hint = hint.replace("_", "-")
    return hint


def _typo_of(key: str, written: str) -> str | None:
    """A did-you-mean for an unknown key only when it is very close to a known one (a custom config such as
    `start` is not taken for `strategy`).

    >>> _typo_of("materialised", "materialised"), _typo_of("start", "start")
    ("did you mean 'materialized'?", None)
    """
    close = difflib.get_close_matches(key, sorted(CONFIG_KEYS), n=1, cutoff=0.8)
    return _suggest(key, written) if close else None


def normalise_config(
    raw: Mapping[str, Any], *, where: SourceLocation, context: str = "", warn: Warn | None = None
) -> dict[str, Any]:
    """`raw` with keys normalised (no '+', '-' -> '_'), validated against CONFIG_KEYS and values coerced.

    tags / unique_key / pre_hook / post_hook become tuples of strings; meta / docs / column_types plain
    dicts; choices (materialized, severity, ...) are checked. When `raw` came from YAML each error names
    the line of its key; `context` (e.g. "models.shop.staging") is named in the message. As in dbt, a key
    sqlflow does not know is kept as it is (NodeConfig.extra), with a warning to `warn` when it looks like
    a typo of a known key; a config the engines ignore (`cluster_by`) is dropped with a warning.

    >>> normalise_config({"+materialized": "table", "tags": "nightly"}, where=SourceLocation("x.yml"))
    {'materialized': 'table', 'tags': ('nightly',)}
    """
    lines = raw.key_lines if isinstance(raw, YamlMap) else {}
    under = f" under {context}" if context else ""
    out: dict[str, Any] = {}
    for written, value in raw.items():
        key = config_key(str(written))
        shown = str(written).lstrip("+")
        location = SourceLocation(where.path, lines.get(written, where.line))
        if key in IGNORED_DBT_KEYS:
            continue
        if key in ENGINE_IGNORED_KEYS:
            if warn is not None:
                warn(f"dbt config '{shown}'{under} is ignored on duckdb/postgres", location)
            continue
        if key in UNSUPPORTED_DBT_KEYS and not (key == "fail_calc" and str(value).strip() == "count(*)"):
            raise ConfigError(
                f"dbt config '{shown}'{under} is not supported by sqlflow",
                location=location,
                hint="remove it; docs/dbt.md lists what sqlflow reads from a dbt project",
            )
        if key not in CONFIG_KEYS:
            hint = _typo_of(key, shown)
            if hint is not None and warn is not None:
                warn(f"unknown config '{shown}'{under} is kept as a custom config ({hint})", location)
            out[key] = plain(value)
            continue
        if key == "sensor":
            out[key] = normalise_sensor(value, path=where.path, line=location.line, context=context)
            continue
        try:
            coerced = _COERCE[key](value)
        except _Bad as bad:
            raise ConfigError(
                f"'{shown}'{under} must be {bad.expected}, not {kind(value)}", location=location
            ) from None
        if key in CHOICES:
            coerced = coerced.lower() if key == "severity" else coerced
            if coerced not in CHOICES[key]:
                raise ConfigError(
                    f"'{shown}'{under} must be one of {', '.join(CHOICES[key])}, not '{coerced}'",
                    location=location,
                    hint=did_you_mean(coerced, CHOICES[key]),
                )
        out[key] = coerced
    return out


def merge_config(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`: tags, hooks and depends_on add up (tags and depends_on without repeats),
    meta/docs/column_types update, a sensor's settings update with those the override writes, every other
    key is replaced.

    >>> merge_config({"tags": ("a",), "meta": {"x": 1}, "materialized": "view"},
    ...              {"tags": ("b", "a"), "meta": {"y": 2}, "materialized": "table"})
    {'tags': ('a', 'b'), 'meta': {'x': 1, 'y': 2}, 'materialized': 'table'}
    """
    out = dict(base)
    for key, value in override.items():
        if key in APPENDED_KEYS and key in out:
            joined = (*out[key], *value)
            out[key] = joined if key in ("pre_hook", "post_hook") else tuple(dict.fromkeys(joined))
        elif key in UPDATED_KEYS and key in out:
            out[key] = {**out[key], **value}
        elif key == "sensor" and key in out:
            out[key] = merge_sensor(out[key], value)  # what the layer above writes, on the layer below
        else:
            out[key] = value
    return out


def folder_config(tree: Mapping[str, Any], fqn: Sequence[str]) -> dict[str, Any]:
    """The configs of a normalised `models:` / `seeds:` / `tests:` tree that apply to the node `fqn`.

    `fqn` is (project, *folders, name); the tree is below the project level (as `Project.model_configs`),
    so its top configs apply to every node, then each folder's, then the node's own; deeper wins.

    >>> tree = {"+materialized": "view", "+tags": ("a",),
    ...         "marts": {"+materialized": "table", "+tags": ("b",)}}
    >>> folder_config(tree, ("shop", "marts", "orders"))
    {'materialized': 'table', 'tags': ('a', 'b')}
    >>> folder_config(tree, ("shop", "staging", "stg_orders"))
    {'materialized': 'view', 'tags': ('a',)}
    """
    merged: dict[str, Any] = {}
    level: Any = tree
    for part in (None, *fqn[1:]):
        if part is not None:
            level = level.get(part)
        if not isinstance(level, Mapping):
            break
        own = {config_key(k): v for k, v in level.items() if k.startswith("+")}
        merged = merge_config(merged, own)
    return merged


def _is_config(key: str, value: Any) -> bool:
    """Whether a key of a `models:` tree is a config: `+key`, or a known key that cannot be a folder."""
    if key.startswith("+"):
        return True
    name = config_key(key)
    if name in IGNORED_DBT_KEYS or name in UNSUPPORTED_DBT_KEYS or name in ENGINE_IGNORED_KEYS:
        if not isinstance(value, Mapping):
            return True
        # `contract: {enforced: true}` is a config; `contract: {raw_codes: {+column_types: ..}}` is a folder
        # (or a project) that happens to share the name
        folder_like = any(str(k).startswith("+") or isinstance(v, Mapping) for k, v in value.items())
        return (name in _MAPPING_DBT_KEYS or name == "options") and not folder_like
    if name not in CONFIG_KEYS:
        return False
    return not isinstance(value, Mapping) or name in UPDATED_KEYS


def normalise_tree(
    raw: Mapping[str, Any], *, path: str, context: str, warn: Warn | None = None
) -> dict[str, Any]:
    """A validated `models:` tree: configs as `+snake_key` with coerced values, folders as plain keys.

    A key without '+' is a folder unless it is a known config key or holds no mapping: as in dbt, a scalar
    under an unknown key is a custom config (`start: 2020-01-01`), and `materialised: view` is kept with a
    did-you-mean warning to `warn`.
    """
    configs = YamlMap()
    out: dict[str, Any] = {}
    lines = raw.key_lines if isinstance(raw, YamlMap) else {}
    for key, value in raw.items():
        if _is_config(key, value):
            configs[key] = value
            if key in lines:
                configs.key_lines[key] = lines[key]
        elif isinstance(value, Mapping):
            out[key] = normalise_tree(value, path=path, context=f"{context}.{key}", warn=warn)
        elif value is None:
            out[key] = {}
        else:
            configs[key] = value
            if key in lines:
                configs.key_lines[key] = lines[key]
    where = SourceLocation(path, getattr(raw, "line", None))
    normalised = normalise_config(configs, where=where, context=context, warn=warn)
    return {f"+{k}": v for k, v in normalised.items()} | out


def strip_project_level(tree: Mapping[str, Any], project_name: str) -> dict[str, Any]:
    """A normalised tree without its project-name level: `{shop: {staging: ..}}` -> `{staging: ..}`.

    Configs and folders written above the project level apply too; the project level wins over them.
    """
    top = {k: v for k, v in tree.items() if k != project_name}
    inner = tree.get(project_name)
    return deep_merge_tree(top, inner) if isinstance(inner, Mapping) else top


def deep_merge_tree(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Two normalised trees as one: folders merge recursively, `over`'s configs win."""
    out = dict(base)
    for key, value in over.items():
        if not key.startswith("+") and isinstance(out.get(key), Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge_tree(out[key], value)
        else:
            out[key] = value
    return out
