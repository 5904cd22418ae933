"""Reading snapshots: `snapshot-paths`, the `snapshots:` tree of sqlflow.yml, property YAML `snapshots:`."""

from __future__ import annotations

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import load_project

from .conftest import WriteFiles
from .helpers import exactly


def test_snapshot_files_tree_and_properties(write: WriteFiles) -> None:
    root = write(
        {
            "sqlflow.yml": """\
                name: shop
                snapshot-paths: [history, more]
                snapshots:
                  shop:
                    +target_schema: snapshots
                    crm:
                      +strategy: check
                """,
            "history/crm/customers.sql": "{% snapshot customers_snapshot %}select 1{% endsnapshot %}\n",
            "history/schema.yml": """\
                version: 2
                snapshots:
                  - name: customers_snapshot
                    description: every version
                    config:
                      unique_key: [id]
                      check_cols: all
                      hard_deletes: new_record
                """,
            "more/orders_snapshot.sql": "select 1\n",
            "snapshots/not_read.sql": "select 1\n",
        }
    )
    project = load_project(root)
    assert project.snapshot_paths == ("history", "more")
    files = [f.path for f in project.snapshot_files]
    assert files == ["history/crm/customers.sql", "more/orders_snapshot.sql"]
    assert project.snapshot_configs == {"+target_schema": "snapshots", "crm": {"+strategy": "check"}}
    props = project.snapshot_properties["customers_snapshot"]
    assert (props.path, props.line, props.description) == ("history/schema.yml", 3, "every version")
    assert props.config == {"unique_key": ("id",), "check_cols": ("all",), "hard_deletes": "new_record"}
    assert project.model_properties == {}


def test_a_bad_snapshot_config_names_its_line(write: WriteFiles) -> None:
    root = write(
        {
            "sqlflow.yml": "name: shop\nsnapshots:\n  shop:\n    +hard_deletes: forget\n",
        }
    )
    with pytest.raises(
        ConfigError,
        match=exactly(
            "sqlflow.yml:4: 'hard_deletes' under snapshots.shop must be one of ignore, invalidate, "
            "new_record, not 'forget'"
        ),
    ):
        load_project(root)


def test_two_property_entries_for_one_snapshot(write: WriteFiles) -> None:
    entry = "version: 2\nsnapshots:\n  - name: s\n"
    root = write({"sqlflow.yml": "name: shop\n", "snapshots/a.yml": entry, "snapshots/b.yml": entry})
    with pytest.raises(
        ConfigError,
        match=exactly(
            "snapshots/b.yml:3: snapshot 's' already has properties in snapshots/a.yml:3 "
            "(merge the two entries into one)"
        ),
    ):
        load_project(root)
