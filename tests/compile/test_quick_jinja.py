"""The quick path renders simple templates exactly as Jinja does, and leaves the rest to Jinja."""

from __future__ import annotations

import subprocess
import sys

import jinja2
import pytest

from sqlflow.compile.jinja.quick_jinja import QuickTemplate


def names(incremental: bool) -> dict[str, object]:
    return {
        "ref": lambda *args: '"main"."' + args[-1] + '"',
        "source": lambda s, t: f'"{s}"."{t}"',
        "config": lambda **kwargs: "",
        "var": lambda name, default=None: {"a": 1}.get(name, default),
        "is_incremental": lambda: incremental,
        "this": '"main"."me"',
        "cents": lambda column: f"({column} / 100)",
    }


@pytest.mark.parametrize(
    "text",
    [
        "select 1",
        "select 1\n",
        "select 1\n\n",
        "select 1\r\nfrom t\r\n",
        "{{ config(materialized='table', tags=['a', 'b'], meta={'x': 1}) }}\nselect * from {{ ref('a') }}\n",
        "select * from {{ ref('pkg', 'a') }} join {{ source('raw', 't') }} using (id)",
        "select {{ var('a') }}, {{ var('b', 'dflt') }}, {{ var('c', -1.5) }}",
        "{# a comment {{ ref('x') }} #}select {{ cents('amount') }} from {{this}}",
        "select 1 {% if is_incremental() %}where x > (select max(x) from {{ this }}){% endif %}\n",
        "select {% if not is_incremental() %}a{% else %}b{% endif %}",
        "{% if is_incremental() %}{% if is_incremental() %}a{% else %}b{% endif %}{% else %}c{% endif %}",
        "{%if is_incremental()%}x{%endif%}\n\n",
    ],
)
@pytest.mark.parametrize("incremental", [False, True])
def test_same_output_as_jinja(text: str, incremental: bool) -> None:
    quick = QuickTemplate.read(text)
    assert quick is not None
    expected = (
        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(names(incremental))
    )
    assert quick.render(names(incremental), lambda line: None) == expected


@pytest.mark.parametrize(
    "text",
    [
        "{{ ref('a') | upper }}",
        "{{ this.schema }}",
        "{{- ref('a') }}",
        "{{ ref('a') -}}",
        "{% set x = 1 %}",
        "{% for i in [1] %}{{ i }}{% endfor %}",
        "{% if x %}a{% endif %}",
        "{% if is_incremental() %}a",
        "{% endif %}",
        "{{ ref(name) }}",
        "{{ ref(**kwargs) }}",
        "{{ 1 + }}",
        "{% raw %}{{ x }}{% endraw %}",
    ],
)
def test_everything_else_is_left_to_jinja(text: str) -> None:
    assert QuickTemplate.read(text) is None


def test_calls_report_their_line() -> None:
    lines: list[int] = []
    QuickTemplate.read("a\n\n{{ ref('x') }}\n{# two\nlines #}{{ this }}").render(names(False), lines.append)
    assert lines == [3, 5]


def test_importing_the_compile_package_loads_neither_jinja_nor_sqlglot() -> None:
    code = "import sys, sqlflow.compile; print(sorted(m for m in ('jinja2', 'sqlglot') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
