"""YAML loading with line marks, and its errors."""

from __future__ import annotations

import re

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project.yamlfile import YamlList, YamlMap, parse_yaml, plain

from .helpers import exactly


def test_lines_of_keys_and_items() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - y: 2\n", "f.yml")
    assert isinstance(doc, YamlMap)
    assert doc.line == 1
    assert doc.key_lines == {"a": 1, "b": 2}
    items = doc["b"]
    assert isinstance(items, YamlList)
    assert items.item_lines == [3, 4]
    assert items[1].line == 4
    assert plain(doc) == {"a": 1, "b": ["x", {"y": 2}]}
    assert type(plain(doc)) is dict


def test_keys_stay_strings() -> None:
    assert list(parse_yaml("on: 1\n2: b\nnull: c\n", "f.yml")) == ["on", "2", "null"]


def test_merge_keys_are_not_duplicates() -> None:
    doc = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", "f.yml")
    assert plain(doc["other"]) == {"x": 1, "y": 3}


def test_duplicate_key() -> None:
    with pytest.raises(
        ConfigError, match=exactly("f.yml:3: duplicate key 'a' (first at line 1) (keep one of them)")
    ):
        parse_yaml("a: 1\nb: 2\na: 3\n", "f.yml")


def test_syntax_error_names_line_and_hints() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("name: shop\nmodels:\n  shop:\n   +materialized: view\n  bad: [1,\n", "sqlflow.yml")
    pattern = r"sqlflow\.yml:5: invalid YAML: .+ \(check the indentation and quoting .+\)"
    assert re.fullmatch(pattern, str(info.value))


def test_mapping_values_error_line() -> None:
    # libyaml says "... not allowed in this context", pure-Python PyYAML "... not allowed here"
    message = (
        r"sqlflow\.yml:2: invalid YAML: mapping values are not allowed (here|in this context) "
        r"\(check the indentation and quoting on this line and the one above\)"
    )
    with pytest.raises(ConfigError, match=f"^{message}$"):
        parse_yaml("name: shop\nprofile: a: b\n", "sqlflow.yml")
