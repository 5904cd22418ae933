"""A generated project of bench size (bench/generate.py, 300 models) compiles whole, and compiling it again
unchanged is answered by the cache without Jinja or sqlglot. The compile's speed is a figure of
bench/run_bench.py (targets: 1,000 models cold < 2 s, cached < 0.5 s), not a test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from sqlflow.compile import compile_project
from sqlflow.compile.context import CompileTools
from sqlflow.project import load_project

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "generate.py"


def refuse(self: object) -> None:
    raise AssertionError("the cache should have answered")


@pytest.mark.slow
def test_three_hundred_models_compile_and_the_cache_answers_the_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("sqlflow_bench_generate_for_compile", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.generate(tmp_path / "bench", models=300, seed=0)
    project = load_project(tmp_path / "bench")
    cache = tmp_path / "cache"

    cold = compile_project(project, target_dialect="duckdb", cache_dir=cache)
    models = [m for m in cold.models() if m.resource_type == "model"]
    assert len(models) == 300
    assert all(m.compiled_sql for m in models)

    monkeypatch.setattr(CompileTools, "renderer", refuse)
    monkeypatch.setattr(CompileTools, "sql_tools", refuse)
    warm = compile_project(project, target_dialect="duckdb", cache_dir=cache)
    assert {u: n.compiled_sql for u, n in warm.nodes.items()} == {
        u: n.compiled_sql for u, n in cold.nodes.items()
    }
