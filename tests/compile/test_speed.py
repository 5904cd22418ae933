"""The compile stays fast: a generated project (bench/generate.py) of 300 models, cold and from the cache.

The targets are 1,000 models cold < 2 s and cached < 0.5 s; the limits here are looser, for slow machines.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from sqlflow.compile import compile_project
from sqlflow.project import load_project

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "generate.py"


@pytest.mark.slow
def test_three_hundred_models_compile_quickly(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("sqlflow_bench_generate_for_compile", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.generate(tmp_path / "bench", models=300, seed=0)
    project = load_project(tmp_path / "bench")
    cache = tmp_path / "cache"

    started = time.perf_counter()
    cold = compile_project(project, target_dialect="duckdb", cache_dir=cache)
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    warm = compile_project(project, target_dialect="duckdb", cache_dir=cache)
    warm_seconds = time.perf_counter() - started

    assert len(list(cold.models())) >= 300
    assert {u: n.compiled_sql for u, n in warm.nodes.items()} == {
        u: n.compiled_sql for u, n in cold.nodes.items()
    }
    assert cold_seconds < 3.0, f"cold compile of 300 models took {cold_seconds:.2f} s"
    assert warm_seconds < 0.3, f"cached compile of 300 models took {warm_seconds:.2f} s"
