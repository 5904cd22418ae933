"""normalise_config, merge_config and folder_config."""

from __future__ import annotations

import pytest

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project import folder_config, merge_config, normalise_config
from sqlflow.project.yamlfile import parse_yaml

from .helpers import exactly

WHERE = SourceLocation("models/orders.sql", 1)


def test_keys_are_normalised_and_values_coerced() -> None:
    raw = {
        "+materialized": "incremental",
        "pre-hook": "select 1",
        "post_hook": ["select 2", {"sql": "select 3", "transaction": False}],
        "unique_key": "id",
        "tags": ["a", "b"],
        "meta": {"owner": "ana"},
        "enabled": "false",
        "severity": "WARN",
        "limit": 10,
        "column_types": {"amount": "decimal(10, 2)", "n": 1},
        "schema": None,
    }
    assert normalise_config(raw, where=WHERE) == {
        "materialized": "incremental",
        "pre_hook": ("select 1",),
        "post_hook": ("select 2", "select 3"),
        "unique_key": ("id",),
        "tags": ("a", "b"),
        "meta": {"owner": "ana"},
        "enabled": False,
        "severity": "warn",
        "limit": 10,
        "column_types": {"amount": "decimal(10, 2)", "n": "1"},
        "schema": None,
    }


def test_normalising_twice_changes_nothing() -> None:
    once = normalise_config({"tags": "x", "pre-hook": "select 1", "meta": {"a": 1}}, where=WHERE)
    assert normalise_config(once, where=WHERE) == once


def test_unknown_key_is_kept_with_did_you_mean() -> None:
    warned: list[str] = []
    config = normalise_config(
        {"materialised": "table"}, where=WHERE, warn=lambda m, at: warned.append(f"{at}: {m}")
    )
    assert config == {"materialised": "table"}  # kept, as dbt keeps it
    assert warned == [
        "models/orders.sql:1: unknown config 'materialised' is kept as a custom config "
        "(did you mean 'materialized'?)"
    ]


def test_unknown_dashed_key_suggests_the_dashed_spelling() -> None:
    warned: list[str] = []
    normalise_config(
        {"pre-hok": "select 1"},
        where=WHERE,
        context="config()",
        warn=lambda m, at: warned.append(f"{at}: {m}"),
    )
    assert warned == [
        "models/orders.sql:1: unknown config 'pre-hok' under config() is kept as a custom config "
        "(did you mean 'pre-hook' or 'post-hook'?)"
    ]


def test_error_names_the_line_of_the_key() -> None:
    raw = parse_yaml("materialized: table\n\ntags: {a: 1}\n", "models/schema.yml")
    message = "models/schema.yml:3: 'tags' must be a string or a list of strings, not a mapping"
    with pytest.raises(ConfigError, match=exactly(message)):
        normalise_config(raw, where=SourceLocation("models/schema.yml", 1))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"materialized": "tabel"},
         "'materialized' must be one of view, table, ephemeral, incremental, seed, snapshot, not 'tabel' "
         "(did you mean 'table'?)"),
        ({"incremental_strategy": "upsert"},
         "'incremental_strategy' must be one of append, merge, delete+insert, time_range, microbatch, "
         "insert_overwrite, replace_where, not 'upsert'"),
        ({"enabled": "yes"}, "'enabled' must be true or false, not a string"),
        ({"limit": 1.5}, "'limit' must be a whole number, not a number"),
        ({"alias": ["a"]}, "'alias' must be a string, not a list"),
        ({"meta": "x"}, "'meta' must be a mapping, not a string"),
    ],
)  # fmt: skip
def test_bad_values(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=exactly("models/orders.sql:1: " + message)):
        normalise_config(raw, where=WHERE)


def test_merge_adds_tags_and_hooks_updates_meta_replaces_the_rest() -> None:
    base = {"tags": ("a",), "pre_hook": ("h1",), "meta": {"x": 1}, "materialized": "view"}
    over = {"tags": ("a", "b"), "pre_hook": ("h2",), "meta": {"y": 2}, "materialized": "table"}
    assert merge_config(base, over) == {
        "tags": ("a", "b"),
        "pre_hook": ("h1", "h2"),
        "meta": {"x": 1, "y": 2},
        "materialized": "table",
    }


def test_folder_config_deeper_wins_and_reaches_the_node() -> None:
    tree = {
        "+materialized": "view",
        "+tags": ("all",),
        "marts": {
            "+materialized": "table",
            "+schema": "analytics",
            "finance": {"+tags": ("finance",), "revenue": {"+materialized": "incremental"}},
        },
    }
    assert folder_config(tree, ("shop", "marts", "finance", "revenue")) == {
        "materialized": "incremental",
        "tags": ("all", "finance"),
        "schema": "analytics",
    }
    staging = folder_config(tree, ("shop", "staging", "stg_orders"))
    assert staging == {"materialized": "view", "tags": ("all",)}
    assert folder_config({}, ("shop", "orders")) == {}
