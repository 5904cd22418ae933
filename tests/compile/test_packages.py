"""Packages installed in dbt_packages/ (as `dbt deps` leaves them): each package's macros in its own
namespace, a root project macro winning for unqualified calls, and `adapter.dispatch` with dbt's search
order and the project's `dispatch:` config. Two small packages of our own, written into tmp_path."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sqlflow.compile import compile_project
from sqlflow.compile.compiler import LateCompile
from sqlflow.compile.context import new_context
from sqlflow.compile.dbt_report import scan_project
from sqlflow.errors import TemplateError
from sqlflow.project import load_project

PKG_A = {
    "dbt_project.yml": "name: pkg_a\nversion: '1.0.0'\nconfig-version: 2\nmacro-paths: [code]\n",
    "code/greet.sql": """\
        {% macro greet() %}{{ salutation() }} || {{ suffix() }}{% endmacro %}
        {% macro default__date_spine() %}'a spine'{% endmacro %}
        """,
    "code/words.sql": """\
        {% macro salutation() %}'hello'{% endmacro %}
        {% macro suffix() %}' from a'{% endmacro %}
        {% macro joined() %}{{ concat(['a', 'b']) }}{% endmacro %}
        """,
    "code/types.sql": "{% macro concat(fields) %}'pkg_a concat'{% endmacro %}\n",
    "code/relations.sql": """\
        {% macro _check(obj) %}
          {%- if not (obj is mapping and obj.get('metadata', {}).get('type', '').endswith('Relation')) -%}
            {{ exceptions.raise_compiler_error('not a relation: ' ~ obj) }}
          {%- endif -%}
        {% endmacro %}
        {% macro name_of(obj) %}{% do pkg_a._check(obj) %}'{{ obj.identifier }}'{% endmacro %}
        """,
    "code/raw.sql": (
        "{% raw %}{% macro only_text() %}{% endraw %}{% macro uses_it() %}{{ only_text }}{% endmacro %}\n"
    ),
    "macros/not_read.sql": "{% macro greet() %}not a macro path{% endmacro %}\n",
}
PKG_B = {
    "dbt_project.yml": "name: pkg_b\nversion: '2.0.0'\n",
    "macros/spine.sql": """\
        {% macro date_spine() %}{{ return(adapter.dispatch('date_spine', 'pkg_b')()) }}{% endmacro %}
        {% macro default__date_spine() %}'b spine'{% endmacro %}
        {% macro cents(c) %}{{ return(adapter.dispatch('cents', 'pkg_b')(c)) }}{% endmacro %}
        {% macro default__cents(c) %}{{ c }} * 100{% endmacro %}
        {% macro duckdb__cents(c) %}cast({{ c }} * 100 as bigint){% endmacro %}
        {% macro both() %}{{ pkg_a.greet() }}{% endmacro %}
        """,
    "models/b_one.sql": "select 1 as id\n",
    "models/staging/b_two.sql": "select {{ cents('id') }} as c from {{ ref('b_one') }}\n",
}
ROOT = {
    "dbt_project.yml": "name: my_project\nversion: '1.0.0'\n",
    "macros/overrides.sql": """\
        {% macro salutation() %}'hi'{% endmacro %}
        {% macro default__cents(c) %}{{ c }} * 1000{% endmacro %}
        """,
}
DISPATCH = """\
dispatch:
  - macro_namespace: pkg_b
    search_order: [my_project, pkg_a, pkg_b]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write(tmp_path / "project", ROOT)
    write(root / "dbt_packages" / "pkg_a", PKG_A)
    write(root / "dbt_packages" / "pkg_b_2_0_0", PKG_B)  # the namespace is the package's name:
    return root


def compiled(root: Path, sql: str, extra: dict[str, str] | None = None) -> str:
    write(root, {"models/x.sql": sql, **(extra or {})})
    manifest = compile_project(load_project(root), target_dialect="duckdb")
    return manifest.nodes["model.my_project.x"].compiled_sql


def test_the_installed_packages_are_read_with_their_names_and_macro_paths(project: Path) -> None:
    loaded = load_project(project)
    assert [(p.name, p.path, p.model_count) for p in loaded.installed_packages] == [
        ("pkg_a", "dbt_packages/pkg_a", 0),
        ("pkg_b", "dbt_packages/pkg_b_2_0_0", 2),
    ]
    assert [f.path for f in loaded.installed_packages[0].macro_files] == [
        "dbt_packages/pkg_a/code/greet.sql",
        "dbt_packages/pkg_a/code/raw.sql",
        "dbt_packages/pkg_a/code/relations.sql",
        "dbt_packages/pkg_a/code/types.sql",
        "dbt_packages/pkg_a/code/words.sql",
    ]
    assert not any(m.path.startswith("dbt_packages") for m in loaded.macro_files)
    assert loaded.dispatch == {}


def test_package_macros_live_in_their_namespaces_and_the_root_project_wins_unqualified(
    project: Path,
) -> None:
    """pkg_a.greet calls `salutation` (the root project's wins) and `suffix` (pkg_a's own) unqualified;
    pkg_b.both calls pkg_a.greet; both packages define default__date_spine."""
    sql = (
        "select {{ pkg_a.greet() }} as g, {{ pkg_b.both() }} as b, {{ salutation() }} as s, "
        "{{ pkg_a.default__date_spine() }} as a, {{ pkg_b.default__date_spine() }} as bs"
    )
    assert compiled(project, sql) == (
        "select 'hi' || ' from a' as g, 'hi' || ' from a' as b, 'hi' as s, 'a spine' as a, 'b spine' as bs"
    )


def test_a_packages_private_macros_and_relations_as_mappings(project: Path) -> None:
    """`pkg._private(...)` is found (a Jinja module hides `_` names; dbt does not), and a ref is a
    mapping whose metadata names a Relation, as dbt packages check."""
    write(project, {"models/y.sql": "select 1 as id\n"})
    assert compiled(project, "select {{ pkg_a.name_of(ref('y')) }} as n") == "select 'y' as n"
    with pytest.raises(TemplateError, match="not a relation: y"):
        compiled(project, "select {{ pkg_a.name_of('y') }} as n")


def test_load_relation_looks_the_relation_up(project: Path) -> None:
    write(
        project,
        {"models/y.sql": "select 1 as id\n", "models/x.sql": "select '{{ load_relation(ref('y')) }}' as r"},
    )
    tables = {"y": [("y", "VIEW")]}

    def query(sql: str) -> tuple[list[str], list[tuple[str, str]]]:
        return ["table_name", "table_type"], next((v for k, v in tables.items() if f"'{k}'" in sql), [])

    late = LateCompile()
    manifest = compile_project(load_project(project), target_dialect="duckdb", query=query, late=late)
    node = manifest.nodes["model.my_project.x"]
    found = 'select \'"my_project"."main"."y"\' as r'
    assert (node.compiled_sql, late(node).compiled_sql) == ("select 'None' as r", found)  # at run time
    tables.clear()
    assert late(node).compiled_sql == "select 'None' as r"


def test_columns_answer_dbts_type_questions() -> None:
    from sqlflow.compile.jinja.dbt_context import Column

    text, number = Column("a", data_type="VARCHAR(10)"), Column("b", data_type="INTEGER")
    assert (text.is_string(), text.string_size(), Column("c", data_type="text").string_size()) == (
        True,
        10,
        256,
    )
    assert (number.is_string(), number.is_integer(), number.is_number()) == (False, True, True)
    assert Column("d", data_type="DECIMAL(18,3)").is_numeric()


def test_in_a_package_dbts_own_macros_come_before_the_packages(project: Path) -> None:
    """As in dbt, where a package macro called from the project's model sees the model's namespace
    (the project's macros, then dbt's): pkg_a's own concat is only `pkg_a.concat`."""
    assert compiled(project, "select {{ pkg_a.joined() }} as j, {{ pkg_a.concat([]) }} as p") == (
        "select a || b as j, 'pkg_a concat' as p"
    )


def test_dispatch_searches_the_root_project_then_the_package(project: Path) -> None:
    """Without `dispatch:` config the order is [my_project, pkg_b], each tried with duckdb__ then default__:
    the root project's default__cents wins over pkg_b's duckdb__cents, as in dbt."""
    sql = "select {{ pkg_b.date_spine() }} as s, {{ pkg_b.cents('id') }} as c"
    assert compiled(project, sql) == "select 'b spine' as s, id * 1000 as c"


def test_dispatch_follows_the_projects_search_order(project: Path) -> None:
    (project / "dbt_project.yml").write_text(ROOT["dbt_project.yml"] + DISPATCH)
    (project / "macros" / "overrides.sql").write_text("{% macro salutation() %}'hi'{% endmacro %}\n")
    sql = "select {{ pkg_b.date_spine() }} as s, {{ pkg_b.cents('id') }} as c"
    assert compiled(project, sql) == "select 'a spine' as s, cast(id * 100 as bigint) as c"


def test_dispatch_that_finds_nothing_names_what_it_searched(project: Path) -> None:
    with pytest.raises(TemplateError) as info:
        compiled(project, "select {{ adapter.dispatch('nothing', 'pkg_a')() }} as n")
    assert str(info.value).startswith(
        "models/x.sql:1: adapter.dispatch('nothing', 'pkg_a') found no macro: looked for "
        "'my_project.duckdb__nothing', 'my_project.default__nothing', 'pkg_a.duckdb__nothing', "
        "'pkg_a.default__nothing'"
    )


def test_a_missing_package_macro_and_an_unqualified_package_macro_are_errors(project: Path) -> None:
    with pytest.raises(TemplateError, match="'only_text' is undefined"):  # written in a raw block only
        compiled(project, "select {{ pkg_a.uses_it() }} as n")
    with pytest.raises(TemplateError, match=r"pkg_a\.gret: package pkg_a has no macro 'gret'") as info:
        compiled(project, "select {{ pkg_a.gret() }} as n")
    assert "greet" in str(info.value.hint)
    with pytest.raises(TemplateError, match="'suffix' is undefined"):  # as in dbt: only pkg_a sees it
        compiled(project, "select {{ suffix() }} as n")


def test_two_packages_defining_one_macro_are_fine_but_one_package_defining_it_twice_is_not(
    project: Path,
) -> None:
    write(project / "dbt_packages" / "pkg_a", {"code/again.sql": "{% macro suffix() %}'x'{% endmacro %}\n"})
    with pytest.raises(TemplateError, match="macro 'suffix' is defined twice") as info:
        compiled(project, "select {{ pkg_a.greet() }} as n")
    assert info.value.location is not None
    assert info.value.location.path == "dbt_packages/pkg_a/code/words.sql"


def test_a_package_file_is_compiled_only_when_one_of_its_macros_is_used(project: Path) -> None:
    """A package's materialization file (not run yet) or a broken file costs nothing until it is used."""
    broken = (
        "{% materialization fancy, default %}{% endmaterialization %}\n"
        "{% macro fancy_helper() %}x{% endmacro %}\n"
    )
    write(project / "dbt_packages" / "pkg_a", {"code/fancy.sql": broken})
    assert compiled(project, "select {{ pkg_a.greet() }} as g") == "select 'hi' || ' from a' as g"
    with pytest.raises(TemplateError, match="template syntax error") as info:
        compiled(project, "select {{ pkg_a.fancy_helper() }} as g")
    assert info.value.location is not None
    assert info.value.location.path == "dbt_packages/pkg_a/code/fancy.sql"


def test_packages_install_path_moves_the_packages(project: Path) -> None:
    (project / "dbt_packages").rename(project / "vendor")
    (project / "dbt_project.yml").write_text(ROOT["dbt_project.yml"] + "packages-install-path: vendor\n")
    assert compiled(project, "select {{ pkg_a.greet() }} as g") == "select 'hi' || ' from a' as g"


def test_the_compile_cache_key_follows_the_package_macros(project: Path) -> None:
    def key() -> str:
        return new_context(load_project(project), target_dialect="duckdb").global_key

    before = key()
    assert key() == before
    (project / "dbt_packages" / "pkg_a" / "code" / "words.sql").write_text(
        "{% macro salutation() %}'hey'{% endmacro %}{% macro suffix() %}'!'{% endmacro %}\n"
    )
    assert key() != before


def test_an_installed_package_of_packages_yml_is_not_warned_about(project: Path) -> None:
    write(project, {"packages.yml": "packages:\n  - package: acme/pkg-b\n  - package: acme/pkg_c\n"})
    write(project, {"models/x.sql": "select {{ pkg_b.cents('id') }} as c\n"})
    manifest = compile_project(load_project(project), target_dialect="duckdb")
    assert [w["message"].split(":")[0] for w in manifest.metadata["warnings"]] == [
        "package 'acme/pkg_c' is not installed"
    ]


def test_a_file_naming_a_package_that_prints_the_run_time_is_not_cached(project: Path) -> None:
    """pkg_b prints run_started_at, pkg_a does not: a model naming pkg_b renders afresh each compile
    (the cache does not keep it); a root macro naming pkg_b makes every templated file volatile."""
    now = "{% macro now() %}'{{ run_started_at.year }}'{% endmacro %}\n"
    write(project / "dbt_packages" / "pkg_b_2_0_0", {"macros/now.sql": now})
    context = new_context(load_project(project), target_dialect="duckdb")
    assert (context.volatile_packages, context.macros_volatile) == ({"pkg_b"}, False)
    assert context.names_volatile_package("{{ pkg_b.now() }}")
    assert not context.names_volatile_package("{{ pkg_a.greet() }} from my_pkg_b_table")
    write(project, {"models/x.sql": "select {{ pkg_b.now() }} as t"})
    years = [
        compile_project(
            load_project(project),
            target_dialect="duckdb",
            cache_dir=project / "target",
            run_started_at=datetime(year, 1, 1, tzinfo=UTC),
        )
        .nodes["model.my_project.x"]
        .compiled_sql
        for year in (2023, 2024)
    ]
    assert years == ["select '2023' as t", "select '2024' as t"]
    write(project, {"macros/clock.sql": "{% macro clock() %}{{ pkg_b.now() }}{% endmacro %}\n"})
    assert new_context(load_project(project), target_dialect="duckdb").macros_volatile


def test_debug_dbt_lists_the_package_models_not_built_yet(project: Path) -> None:
    write(project, {"packages.yml": "packages:\n  - package: acme/pkg_b\n    version: 2.0.0\n"})
    write(project, {"models/x.sql": "select {{ pkg_b.cents('id') }} as c\n"})
    found = [str(f) for f in scan_project(project)]
    assert [f for f in found if "pkg_b" in f] == [
        "dbt_packages/pkg_b_2_0_0: unsupported: package models are not built yet: pkg_b: 2 models. Its "
        "macros work; build the models you need from the project's own models for now."
    ]
