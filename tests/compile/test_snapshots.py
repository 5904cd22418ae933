"""Snapshots through load_project and compile_project: the `{% snapshot %}` block form and the YAML form,
configs from every place, relations, dependencies, and errors at the file:line to fix."""

from __future__ import annotations

import dataclasses
import re

import pytest

from sqlflow.artifacts import manifest_document
from sqlflow.compile import compile_project
from sqlflow.compile.lint import lint
from sqlflow.errors import ConfigError, TemplateError, UnknownRefError
from sqlflow.manifest import ModelNode, NodeConfig, Relation
from sqlflow.project import load_project

STAGING = {
    "models/stg_customers.sql": "select id, name, updated_at from {{ source('raw', 'customers') }}\n",
    "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: customers\n",
}

BLOCK = """\
-- customers, every version
{% snapshot customers_snapshot %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', tags=['scd']) }}
select * from {{ ref('stg_customers') }}
{% endsnapshot %}
"""


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def snapshot_of(manifest, name: str = "customers_snapshot") -> ModelNode:
    node = manifest.nodes[f"snapshot.shop.{name}"]
    assert isinstance(node, ModelNode)
    return node


def test_a_block_becomes_a_snapshot_node(compile_files) -> None:
    node = snapshot_of(compile_files({**STAGING, "snapshots/customers.sql": BLOCK}))
    assert node.resource_type == "snapshot"
    assert node.path == "snapshots/customers.sql"
    assert node.fqn == ("shop", "customers_snapshot")
    assert node.config == NodeConfig(
        materialized="snapshot",
        unique_key=("id",),
        strategy="timestamp",
        updated_at="updated_at",
        hard_deletes="ignore",
        tags=("scd",),
    )
    assert node.relation == Relation(database="shop", schema="main", identifier="customers_snapshot")
    assert node.depends_on == ("model.shop.stg_customers",)
    assert node.refs == ("stg_customers",)
    assert node.compiled_sql == 'select * from "main"."stg_customers"'
    assert node.raw_sql == BLOCK.split("%}", 1)[1].rsplit("{%", 1)[0]  # the block's body, as written
    cols = ("id", "name", "updated_at", "dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
    assert node.inferred_columns == cols


def test_the_yaml_form_gives_the_same_node(compile_files) -> None:
    path = "snapshots/customers_snapshot.sql"
    block = snapshot_of(compile_files({**STAGING, path: BLOCK}))
    manifest = compile_files(  # the same file, rewritten: the select only, config in property YAML
        {
            path: "select * from {{ ref('stg_customers') }}\n",
            "snapshots/schema.yml": """\
                version: 2
                snapshots:
                  - name: customers_snapshot
                    description: every version of each customer
                    config:
                      unique_key: id
                      strategy: timestamp
                      updated_at: updated_at
                      tags: [scd]
                    columns:
                      - name: id
                        data_tests: [not_null]
                """,
        }
    )
    yaml_form = snapshot_of(manifest)
    differs = {"raw_sql", "checksum", "description", "columns", "patch_path"}
    same = [f.name for f in dataclasses.fields(ModelNode) if f.name not in differs]
    assert {f: getattr(yaml_form, f) for f in same} == {f: getattr(block, f) for f in same}
    assert yaml_form.description == "every version of each customer"
    assert yaml_form.patch_path == "snapshots/schema.yml"
    assert [c.name for c in yaml_form.columns] == ["id"]
    [test] = manifest.tests()
    assert (test.name, test.attached_node) == ("not_null_customers_snapshot_id", yaml_form.unique_id)


def test_several_blocks_in_one_file_keep_their_line_numbers(compile_files) -> None:
    two = """\
        {% snapshot first_snap %}
        {{ config(unique_key='id', strategy='check', check_cols='all') }}
        select * from stg_customers
        {% endsnapshot %}

        {% snapshot second_snap %}
            {{ config(unique_key=['id', 'name'], strategy='check', check_cols=['updated_at'],
                      invalidate_hard_deletes=true) }}
            select * from {{ ref('stg_customers') }}
        {% endsnapshot %}
        """
    manifest = compile_files({**STAGING, "snapshots/pair.sql": two})
    first, second = snapshot_of(manifest, "first_snap"), snapshot_of(manifest, "second_snap")
    assert first.depends_on == second.depends_on == ("model.shop.stg_customers",)  # a plain name, a ref
    assert first.config.check_cols == ("all",)
    assert second.config.unique_key == ("id", "name")
    assert second.config.hard_deletes == "invalidate"  # the older spelling
    assert first.path == second.path == "snapshots/pair.sql"
    with pytest.raises(
        UnknownRefError,
        match=exactly("snapshots/pair.sql:9: unknown ref 'stg_custmers' (did you mean 'stg_customers'?)"),
    ):
        compile_files({"snapshots/pair.sql": two.replace("ref('stg_customers')", "ref('stg_custmers')")})


def test_blocks_compile_the_same_from_the_cache(tmp_path, write) -> None:
    root = write({**STAGING, "snapshots/pair.sql": BLOCK + BLOCK.replace("customers_snapshot", "other_snap")})
    cache = tmp_path / "cache"
    first = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    second = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert first.nodes == second.nodes
    assert snapshot_of(second, "other_snap").relation.identifier == "other_snap"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("strategy='timestamp', updated_at='u'",
         "snapshots/s.sql:3: snapshot 's' needs a unique_key (set the column(s) naming a row, e.g. "
         "unique_key='id')"),
        ("unique_key='id', updated_at='u'",
         "snapshots/s.sql:3: snapshot 's' needs a strategy (set strategy='timestamp' with updated_at, or "
         "strategy='check' with check_cols)"),
        ("unique_key='id', strategy='timestamp'",
         "snapshots/s.sql:3: snapshot 's' uses the timestamp strategy and needs updated_at (set the column "
         "saying when a row last changed, e.g. updated_at='updated_at')"),
        ("unique_key='id', strategy='check'",
         "snapshots/s.sql:3: snapshot 's' uses the check strategy and needs check_cols (set the columns "
         "compared between runs, e.g. check_cols=['status', 'email'] or 'all')"),
        ("unique_key='id', strategy='check', check_cols=['all', 'x']",
         "snapshots/s.sql:3: snapshot 's' has check_cols 'all' beside other columns (write check_cols='all', "
         "or list the columns)"),
        ("unique_key='id', strategy='sometimes'",
         "snapshots/s.sql:3: 'strategy' must be one of timestamp, check, not 'sometimes'"),
    ],
)  # fmt: skip
def test_a_missing_config_names_the_config_call(compile_files, config: str, message: str) -> None:
    text = f"-- s\n{{% snapshot s %}}\n  {{{{ config({config}) }}}}\n  select 1 as id\n{{% endsnapshot %}}\n"
    with pytest.raises(ConfigError, match=exactly(message)):
        compile_files({"snapshots/s.sql": text})


def test_a_missing_config_names_the_property_entry(compile_files) -> None:
    props = "version: 2\nsnapshots:\n  - name: s\n    config:\n      unique_key: id\n"
    with pytest.raises(ConfigError, match=r"^snapshots/props.yml:3: snapshot 's' needs a strategy \("):
        compile_files({"snapshots/s.sql": "select 1 as id\n", "snapshots/props.yml": props})


def test_a_missing_config_without_config_names_the_block(compile_files) -> None:
    with pytest.raises(ConfigError, match=r"^snapshots/t.sql:2: snapshot 't' needs a unique_key \("):
        compile_files({"snapshots/t.sql": "\n{% snapshot t %} select 1 as id {% endsnapshot %}\n"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% snapshot a %}\nselect 1\n", "snapshots/x.sql:1: snapshot block 'a' has no {% endsnapshot %} "
                                          "(close each block before the next one starts)"),
        ("\n{% snapshot %}select 1{% endsnapshot %}", "snapshots/x.sql:2: a snapshot block needs one name: "
                                                      "{% snapshot my_snapshot %}"),
        ("select 1\n{% endsnapshot %}",
         "snapshots/x.sql:2: {% endsnapshot %} without a {% snapshot %} block"),
        ("{% snapshot a %}1{% endsnapshot %}\n{% snapshot a %}2{% endsnapshot %}",
         "snapshots/x.sql:2: snapshot 'a' is defined twice in this file (the other block starts on line 1; "
         "rename one of them)"),
    ],
)  # fmt: skip
def test_malformed_blocks(compile_files, text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=exactly(message)):
        compile_files({"snapshots/x.sql": text})


def test_config_from_the_snapshots_tree_and_legacy_target_schema(compile_files) -> None:
    manifest = compile_files(
        {
            "sqlflow.yml": """\
                name: shop
                snapshot-paths: [history]
                snapshots:
                  shop:
                    +strategy: check
                    +check_cols: all
                    +unique_key: id
                    legacy:
                      +target_schema: snapshots
                      +target_database: archive
                    modern:
                      +schema: snapshots
                """,
            "history/legacy/a.sql": "select 1 as id",
            "history/modern/b.sql": "{{ config(alias='b_history', hard_deletes='new_record') }} select 1",
            "snapshots/ignored.sql": "select 1 as id",  # not a snapshot path here
        }
    )
    a, b = snapshot_of(manifest, "a"), snapshot_of(manifest, "b")
    assert a.relation == Relation(database="archive", schema="snapshots", identifier="a")
    assert a.fqn == ("shop", "legacy", "a")
    assert b.relation == Relation(database="shop", schema="main_snapshots", identifier="b_history")
    assert b.config.strategy == "check" and b.config.check_cols == ("all",)
    assert b.config.hard_deletes == "new_record"
    assert b.inferred_columns[-1] == "dbt_is_deleted"
    assert "snapshot.shop.ignored" not in manifest.nodes
    assert manifest_document(manifest)["nodes"]["snapshot.shop.a"]["resource_type"] == "snapshot"


def test_property_entries_need_a_snapshot(compile_files) -> None:
    props = "version: 2\nsnapshots:\n  - name: customers_snapshop\n"
    manifest = compile_files({**STAGING, "snapshots/c.sql": BLOCK, "snapshots/p.yml": props})
    assert [str(w) for w in lint(manifest)] == [
        "snapshots/p.yml:3: unknown snapshot 'customers_snapshop': its properties and tests are ignored "
        "(did you mean 'customers_snapshot'?)"
    ]


def test_a_model_and_a_snapshot_cannot_share_a_name(compile_files) -> None:
    with pytest.raises(Exception, match="a model and a snapshot are named 'stg_customers'"):
        compile_files({**STAGING, "snapshots/s.sql": BLOCK.replace("customers_snapshot", "stg_customers")})
