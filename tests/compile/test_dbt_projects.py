"""A dbt project read from dbt's files: relation names as dbt-duckdb prints them, dbt's naming macros and
a project's overrides of them, dbt configs with and without `+`, docs blocks, analyses, packages.yml."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from sqlflow.compile import compile_project
from sqlflow.errors import ConfigError, TemplateError, UnknownRefError
from sqlflow.graph import build_dag
from sqlflow.project import load_project
from sqlflow.runner.plan import build_plan

DBT = {
    "dbt_project.yml": "name: shop\nprofile: shop\n",
    "profiles.yml": "shop:\n  outputs:\n    dev: {type: duckdb, path: dev.duckdb}\n",
    "models/y.sql": "select 1 as id\n",
}


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.fixture
def write_dbt(tmp_path):
    """write({"path": "text"}): a dbt project (dbt_project.yml, no sqlflow.yml) under tmp_path/project."""

    def write_files(files: dict[str, str]):
        root = tmp_path / "project"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write_files


def compiled_dbt(write_dbt, files: dict[str, str]):
    return compile_project(load_project(write_dbt({**DBT, **files})), target_dialect="duckdb")


# -- relation names -----------------------------------------------------------------------------------------


def test_a_dbt_project_names_the_database_as_dbt_duckdb_does(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "models/x.sql": "select '{{ this }}' as me, * from {{ ref('y') }} "
            "join {{ source('raw', 'o') }} using (id)",
            "models/src.yml": "version: 2\nsources:\n  - name: raw\n    tables: [{name: o}]\n",
        },
    )
    assert manifest.nodes["model.shop.x"].compiled_sql == (
        'select \'"dev"."main"."x"\' as me, * from "dev"."main"."y" join "dev"."raw"."o" using (id)'
    )


def test_a_sqlflow_project_keeps_schema_dot_name(compile_files) -> None:  # (conftest's sqlflow.yml)
    manifest = compile_files(
        {"models/y.sql": "select 1 as id", "models/x.sql": "select * from {{ ref('y') }}"}
    )
    assert manifest.nodes["model.shop.x"].compiled_sql == 'select * from "main"."y"'


def test_quoting_turns_quotes_off_for_a_part(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "dbt_project.yml": "name: shop\nprofile: shop\nquoting: {identifier: false, database: false}\n",
            "models/x.sql": "select * from {{ ref('y') }}",
        },
    )
    assert manifest.nodes["model.shop.x"].compiled_sql == 'select * from dev."main".y'


# -- dbt's naming and a project's own -----------------------------------------------------------------------


def test_custom_schemas_follow_dbts_default_rule(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "dbt_project.yml": "name: shop\nprofile: shop\n"
            "models:\n  shop:\n    marts:\n      schema: marts\n",
            "models/marts/m.sql": "select 1 as id",
        },
    )
    relation = manifest.nodes["model.shop.m"].relation
    assert (relation.database, relation.schema, relation.identifier) == ("dev", "main_marts", "m")


NAMING = """\
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- if node.resource_type == 'seed' -%}{{ return('seed_' ~ node.name) }}{%- endif -%}
    {{ custom_alias_name or node.name }}
{%- endmacro %}
"""


def test_a_projects_generate_schema_and_alias_name_are_called_per_node(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "macros/naming.sql": NAMING,
            "models/x.sql": "{{ config(schema='marts') }}select '{{ this }}' as me, * from {{ ref('y') }}",
            "seeds/codes.csv": "a\n1\n",
        },
    )
    x = manifest.nodes["model.shop.x"]
    assert (x.relation.schema, x.relation.identifier) == ("marts", "x")
    assert x.compiled_sql == 'select \'"dev"."marts"."x"\' as me, * from "dev"."main"."y"'
    assert manifest.nodes["seed.shop.codes"].relation.identifier == "seed_codes"


def test_a_dispatched_default_naming_macro_counts_as_the_projects(write_dbt) -> None:
    macro = (
        "{% macro default__generate_schema_name(custom_schema_name, node) %}s_{{ node.name }}{% endmacro %}"
    )
    manifest = compiled_dbt(write_dbt, {"macros/naming.sql": macro})
    assert manifest.nodes["model.shop.y"].relation.schema == "s_y"


def test_a_failing_naming_macro_names_its_line(write_dbt) -> None:
    macro = (
        "{% macro generate_schema_name(custom_schema_name, node) %}\n"
        "{{ exceptions.raise_compiler_error('no') }}\n{% endmacro %}"
    )
    with pytest.raises(TemplateError, match=exactly("macros/naming.sql:2: no")):
        compiled_dbt(write_dbt, {"macros/naming.sql": macro})


def test_the_default_naming_does_not_load_jinja(write_dbt) -> None:
    root = write_dbt({**DBT, "seeds/codes.csv": "a\n1\n"})
    code = (
        "import sys; from sqlflow.project import load_project; from sqlflow.compile import compile_project; "
        f"compile_project(load_project({str(root)!r}), target_dialect='duckdb'); "
        "print('jinja2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- dbt_project.yml configs --------------------------------------------------------------------------------


def test_configs_with_and_without_plus(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "dbt_project.yml": """\
                name: shop
                profile: shop
                models:
                  shop:
                    materialized: table
                    +tags: [a]
                    docs: {show: false}
                    +persist_docs: {relation: true}
                    +grants: {select: [reporter]}
                    old:
                      +enabled: false
                    inc:
                      +materialized: incremental
                      +full_refresh: false
                """,
            "models/old/gone.sql": "select 1 as id",
            "models/inc/i.sql": "select 1 as id",
        },
    )
    y, i = manifest.nodes["model.shop.y"], manifest.nodes["model.shop.i"]
    assert (y.config.materialized, y.config.tags, dict(y.config.docs)) == ("table", ("a",), {"show": False})
    assert (i.config.materialized, i.config.full_refresh) == ("incremental", False)
    assert "model.shop.gone" not in manifest.nodes


def test_a_dbt_config_sqlflow_cannot_honour_is_named(write_dbt) -> None:
    with pytest.raises(
        ConfigError, match=r"^models/x.sql:1: dbt config 'dbt_valid_to_current' is not supported"
    ):
        compiled_dbt(
            write_dbt, {"models/x.sql": "{{ config(dbt_valid_to_current=\"'9999-12-31'\") }}select 1 as a"}
        )


def test_a_ref_to_a_disabled_model_says_so(write_dbt) -> None:
    files = {
        "models/old.sql": "{{ config(enabled=false) }}select 1 as id",
        "models/x.sql": "select * from {{ ref('old') }}",
    }
    with pytest.raises(UnknownRefError, match="ref 'old' names a disabled model"):
        compiled_dbt(write_dbt, files)


# -- docs blocks, analyses, packages ------------------------------------------------------------------------


def test_doc_blocks_fill_descriptions(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "dbt_project.yml": "name: shop\nprofile: shop\ndocs-paths: [docs]\n",
            "docs/status.md": "{% docs status %}\nPlaced or *shipped*.\n{% enddocs %}\n"
            "{% docs y %}The y.{% enddocs %}",
            "models/y.yml": """\
                version: 2
                models:
                  - name: y
                    description: '{{ doc("y") }} More.'
                    columns:
                      - name: id
                        description: "{{ doc('status') }}"
                """,
        },
    )
    y = manifest.nodes["model.shop.y"]
    assert (y.description, y.columns[0].description) == ("The y. More.", "Placed or *shipped*.")


def test_doc_blocks_are_read_beside_the_models_without_docs_paths(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "models/docs.md": "{% docs y %}From models/.{% enddocs %}",
            "models/y.yml": "version: 2\nmodels:\n  - name: y\n    description: '{{ doc(\"y\") }}'\n",
        },
    )
    assert manifest.nodes["model.shop.y"].description == "From models/."


def test_an_unknown_doc_is_an_error_with_a_hint(write_dbt) -> None:
    with pytest.raises(
        ConfigError,
        match=exactly("models/y.yml:3: doc('statsu') names no docs block (did you mean 'status'?)"),
    ):
        compiled_dbt(
            write_dbt,
            {
                "models/docs.md": "{% docs status %}x{% enddocs %}",
                "models/y.yml": "version: 2\nmodels:\n  - name: y\n"
                "    description: '{{ doc(\"statsu\") }}'\n",
            },
        )


def test_a_docs_block_defined_twice_is_an_error(write_dbt) -> None:
    with pytest.raises(
        ConfigError,
        match=exactly(
            "models/b.md:1: docs block 'x' is defined twice "
            "(the other is in models/a.md:1; rename one of them)"
        ),
    ):
        compiled_dbt(
            write_dbt,
            {"models/a.md": "{% docs x %}a{% enddocs %}", "models/b.md": "{% docs x %}b{% enddocs %}"},
        )


def test_analyses_are_compiled_and_never_run(write_dbt) -> None:
    manifest = compiled_dbt(write_dbt, {"analyses/report.sql": "select count(*) as n from {{ ref('y') }}"})
    node = manifest.nodes["analysis.shop.report"]
    assert node.resource_type == "analysis"
    assert node.compiled_sql == 'select count(*) as n from "dev"."main"."y"'
    assert [m.name for m in manifest.models()] == ["y"]
    plan = build_plan(manifest, build_dag(manifest), set(manifest.nodes), command="build")
    assert [s.name for s in plan.steps] == ["y"]


def test_an_analysis_cannot_be_referenced(write_dbt) -> None:
    with pytest.raises(UnknownRefError, match="unknown ref 'report'"):
        compiled_dbt(
            write_dbt,
            {"analyses/report.sql": "select 1 as n", "models/x.sql": "select * from {{ ref('report') }}"},
        )


def test_packages_are_named_in_a_warning(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n"
            "  - local: ../shared\n"
        },
    )
    assert [(w["message"].split(":")[0], w["path"], w["line"]) for w in manifest.metadata["warnings"]] == [
        ("package 'dbt-labs/dbt_utils' is not installed", "packages.yml", 2),
        ("package '../shared' is not installed", "packages.yml", 4),
    ]


def test_an_empty_packages_file_warns_of_nothing(write_dbt) -> None:
    manifest = compiled_dbt(write_dbt, {"packages.yml": "packages: []\n"})
    assert "warnings" not in manifest.metadata


def test_an_uninstalled_package_macro_names_the_package(write_dbt) -> None:
    message = (
        "models/x.sql:1: dbt_utils.generate_surrogate_key is a macro of package dbt_utils, which is not "
        "installed (sqlflow installs no packages: copy the macro into macros/, where dbt_utils.x finds it)"
    )
    with pytest.raises(TemplateError, match=exactly(message)):
        compiled_dbt(write_dbt, {"models/x.sql": "select {{ dbt_utils.generate_surrogate_key(['a']) }} as k"})


def test_a_package_macro_copied_into_the_project_is_found_under_the_packages_name(write_dbt) -> None:
    manifest = compiled_dbt(
        write_dbt,
        {
            "macros/vendored.sql": "{% macro star(from) %}*{% endmacro %}",
            "models/x.sql": "select {{ dbt_utils.star(ref('y')) }} from {{ ref('y') }}",
        },
    )
    assert manifest.nodes["model.shop.x"].compiled_sql == 'select * from "dev"."main"."y"'
