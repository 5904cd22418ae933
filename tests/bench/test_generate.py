"""The benchmark generator (bench/generate.py) writes a small, deterministic project that sqlflow builds."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "generate.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sqlflow_bench_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generates_the_expected_files(tmp_path: Path) -> None:
    planned = load_generator().generate(tmp_path, models=20, seed=7)
    written = files(tmp_path)
    models = [p for p in written if p.startswith("models/") and p.endswith(".sql")]
    assert len(planned) == 20 and len(models) == 20
    assert sorted(p for p in written if p.startswith("seeds/")) == [
        "seeds/seed_customers.csv",
        "seeds/seed_events.csv",
        "seeds/seed_orders.csv",
    ]
    assert all(text.count(b"\n") == 1_001 for p, text in written.items() if p.startswith("seeds/"))
    layers = {p.split("/")[1] for p in models}
    assert len(layers) >= 3 and "layer_00" in layers
    assert all(
        p.startswith("models/layer_") and p.endswith("/schema.yml")
        for p in written
        if p.endswith(".yml") and p != "sqlflow.yml"
    )
    assert b"name: bench" in written["sqlflow.yml"]
    assert not any(p.startswith("profiles") for p in written)
    layer0 = [written[p] for p in models if p.startswith("models/layer_00/")]
    assert layer0 and all(b"{{ ref('seed_" in text for text in layer0)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generator = load_generator()
    generator.generate(tmp_path / "a", models=20, seed=3)
    generator.generate(tmp_path / "b", models=20, seed=3)
    generator.generate(tmp_path / "c", models=20, seed=4)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_mix_of_features_at_scale(tmp_path: Path) -> None:
    """At 400 models every feature the benchmark means to exercise shows up."""
    planned = load_generator().generate(tmp_path, models=400, seed=0)
    kinds = {m.materialized for m in planned}
    assert kinds == {"table", "view", "incremental"}
    assert {m.shape for m in planned} == {"seed", "join", "window", "aggregate"}
    assert any(any(m.plain) for m in planned) and any(not all(m.plain) for m in planned if m.layer)
    assert 0.05 < sum(m.tested for m in planned) / len(planned) < 0.2
    incremental = next(m for m in planned if m.materialized == "incremental")
    sql = (tmp_path / "models" / f"layer_{incremental.layer:02d}" / f"{incremental.name}.sql").read_text()
    assert "{% if is_incremental() %}" in sql and "{{ this }}" in sql and "unique_key='id'" in sql


def cli_available() -> bool:
    try:
        from sqlflow.cli.main import main  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not cli_available(), reason="the sqlflow CLI entry point is not importable")
def test_sqlflow_builds_the_generated_project(tmp_path: Path) -> None:
    project = tmp_path / "bench"
    load_generator().generate(project, models=20, seed=0)
    env = {**os.environ, "HOME": str(tmp_path), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "sqlflow", "build"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "bench.duckdb").exists()
