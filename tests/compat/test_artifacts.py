"""sqlflow's target/manifest.json and run_results.json load with tools written for dbt: they validate
against dbt-core's own JSON schemas (generated from its artifact classes, in schemas/) and parse with
dbt-artifacts-parser, after a build of a dbt project that has a failing test and a skipped model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sqlflow.cli.main import cli

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """manifest.json and run_results.json of `seed` + `build` of jaffle_classic, with a broken row."""
    project = tmp_path_factory.mktemp("artifacts") / "jaffle_classic"
    shutil.copytree(HERE / "projects" / "jaffle_classic", project)
    orders = project / "seeds" / "raw_orders.csv"
    orders.write_text(orders.read_text() + "61,3,2024-02-02,lost\n")  # fails accepted_values on stg_orders
    runner = CliRunner()
    args = ["--project-dir", str(project)]
    assert runner.invoke(cli, ["seed", *args], env={"HOME": str(project)}).exit_code == 0
    assert runner.invoke(cli, ["build", *args], env={"HOME": str(project)}).exit_code == 1
    target = project / "target"
    return {name: json.loads((target / f"{name}.json").read_text()) for name in ("manifest", "run_results")}


def test_statuses_and_keys_are_dbts(artifacts: dict[str, dict[str, Any]]) -> None:
    results = {r["unique_id"]: r for r in artifacts["run_results"]["results"]}
    assert {r["status"] for r in results.values()} <= {"success", "error", "skipped", "pass", "fail", "warn"}
    orders = results["model.jaffle_classic.stg_orders"]
    assert orders["status"] == "error" and "audit failed" in orders["message"]
    assert results["model.jaffle_classic.orders"]["status"] == "skipped"
    seed = results["seed.jaffle_classic.raw_orders"]
    assert seed["adapter_response"] == {"_message": "INSERT 61", "code": "INSERT", "rows_affected": 61}
    assert [t["name"] for t in seed["timing"]] == ["compile", "execute"]
    assert isinstance(seed["thread_id"], str)
    failed = next(r for uid, r in results.items() if uid.startswith("test.") and r["status"] == "fail")
    assert failed["failures"] == 1 and failed["adapter_response"]["sample_rows"]
    view = results["model.jaffle_classic.stg_customers"]
    assert view["relation_name"] == '"jaffle_classic"."main"."stg_customers"'
    assert view["compiled"] is True and view["compiled_code"].startswith("with source as")

    manifest = artifacts["manifest"]
    assert manifest["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/manifest/v12.json"
    assert manifest["metadata"]["adapter_type"] == "duckdb"
    node = manifest["nodes"]["model.jaffle_classic.orders"]
    assert sorted(node["refs"], key=lambda ref: ref["name"]) == [
        {"name": "order_payments", "package": None, "version": None},
        {"name": "stg_orders", "package": None, "version": None},
    ]
    assert node["depends_on"]["macros"] == []
    assert (node["path"], node["original_file_path"]) == ("marts/orders.sql", "models/marts/orders.sql")
    source = manifest["nodes"]["model.jaffle_classic.stg_payments"]["sources"]
    assert source == [["raw", "raw_payments"]]


def test_unique_ids_of_generic_tests_are_dbts(artifacts: dict[str, dict[str, Any]]) -> None:
    """dbt's hashes (recorded in the reference), so results can be matched to a dbt run's."""
    reference = json.loads((HERE / "reference" / "jaffle_classic.json").read_text())
    dbt_tests = {uid for uid in reference["commands"]["test"]["statuses"] if uid.startswith("test.")}
    ours = {uid for uid in artifacts["manifest"]["nodes"] if uid.startswith("test.")}
    assert ours == dbt_tests


@pytest.mark.parametrize("name", ["manifest", "run_results"])
def test_artifacts_validate_against_dbts_json_schemas(
    artifacts: dict[str, dict[str, Any]], name: str
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = {"manifest": "manifest_v12.json", "run_results": "run_results_v6.json"}[name]
    schema = json.loads((HERE / "schemas" / schema_file).read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(artifacts[name])
    ]
    assert not errors, "\n".join(errors[:20])


def test_artifacts_parse_with_dbt_artifacts_parser(artifacts: dict[str, dict[str, Any]]) -> None:
    parser = pytest.importorskip("dbt_artifacts_parser.parser")
    manifest = parser.parse_manifest(artifacts["manifest"])
    assert type(manifest).__name__ == "ManifestV12"
    assert manifest.nodes["model.jaffle_classic.orders"].config.materialized == "table"
    run_results = parser.parse_run_results(artifacts["run_results"])
    assert type(run_results).__name__ == "RunResultsV6"
    assert {r.status.value for r in run_results.results} >= {"success", "fail", "skipped", "pass"}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (HERE / "projects").iterdir() if (p / "dbt_project.yml").exists())
)
def test_the_manifest_of_every_compat_project_validates(name: str, tmp_path: Path) -> None:
    """Unit tests (in `unit_tests`), custom schemas, doc blocks ... in dbt's shape too."""
    jsonschema = pytest.importorskip("jsonschema")
    parser = pytest.importorskip("dbt_artifacts_parser.parser")
    project = tmp_path / name
    shutil.copytree(HERE / "projects" / name, project)
    result = CliRunner().invoke(cli, ["compile", "--project-dir", str(project)], env={"HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    schema = json.loads((HERE / "schemas" / "manifest_v12.json").read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(manifest)
    ]
    assert not errors, "\n".join(errors[:20])
    parser.parse_manifest(manifest)
