"""The reference comparison: sqlflow builds each dbt project of tests/compat/projects/ and must leave the
same relations, with the same content, and give the same statuses as dbt-core + dbt-duckdb did.

The reference of a project (tests/compat/reference/<project>.json) is recorded once with dbt by
record_reference.py. Here a copy of the project gets `sqlflow seed`, `run`, `snapshot`, `test` and
`build`, in that order, through the CLI; then the DuckDB file's relations are compared one by one (same
names, kind, columns, row count and content checksum) and each command's exit code and statuses by
unique_id (`sqlflow run` runs no tests, as `dbt run`). Differences still there are listed, with why, in
KNOWN_DIFFERENCES (docs/dbt.md, "How compatibility is tested").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sqlflow.cli.main import cli
from tests.compat.facts import COMMANDS, project_checksum, relation_facts, statuses

HERE = Path(__file__).resolve().parent
PROJECTS = sorted(p.name for p in (HERE / "projects").iterdir() if (p / "dbt_project.yml").exists())
RECORD = "python tests/compat/record_reference.py {name}"

# project -> {difference line as the test prints it: why}: differences sqlflow still has, by design or
# not yet fixed. Any other difference fails the test, and so does a listed one that is gone (remove it).
KNOWN_DIFFERENCES: dict[str, dict[str, str]] = {}


def build_with_sqlflow(project: Path) -> dict[str, Any]:
    """Each command's exit code and statuses, as record_reference.py records dbt's."""
    runner = CliRunner()
    commands: dict[str, Any] = {}
    for command in COMMANDS:
        results = project / "target" / "run_results.json"
        results.unlink(missing_ok=True)
        args = ["--no-color", command, "--project-dir", str(project)]
        done = runner.invoke(cli, args, env={"COLUMNS": "200"})
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            raise done.exception
        commands[command] = {"exit_code": done.exit_code, "statuses": statuses(results)}
        commands[command]["output"] = done.output
    return commands


def compare_commands(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One line per difference in exit codes and statuses."""
    out: list[str] = []
    for command in COMMANDS:
        want, got = expected[command], actual[command]
        if want["exit_code"] != got["exit_code"]:
            out.append(f"{command}: exit code {got['exit_code']}, dbt {want['exit_code']}")
        for uid, status in sorted(want["statuses"].items()):
            if uid not in got["statuses"]:
                out.append(f"{command}: {uid} missing (dbt: {status})")
            elif got["statuses"][uid] != status:
                out.append(f"{command}: {uid} is {got['statuses'][uid]}, dbt {status}")
        for uid in sorted(set(got["statuses"]) - set(want["statuses"])):
            out.append(f"{command}: {uid} ({got['statuses'][uid]}) not in dbt's results")
    return out


def compare_relations(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One line per relation that is missing, extra or different."""
    out: list[str] = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            want = expected[key]
            out.append(f"{key}: missing (dbt built a {want['kind']} of {want['rows']} rows)")
            continue
        if key not in expected:
            out.append(f"{key}: not built by dbt ({actual[key]['kind']}, {actual[key]['rows']} rows)")
            continue
        want, got = expected[key], actual[key]
        for fact in ("kind", "columns", "rows", "checksum"):
            if want[fact] != got[fact]:
                out.append(f"{key}: {fact} {got[fact]}, dbt {want[fact]}")
    return out


def database_file(project: Path) -> Path:
    found = sorted(project.glob("*.duckdb"))
    assert len(found) == 1, f"expected one *.duckdb file in {project}, found {found}"
    return found[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", PROJECTS)
def test_sqlflow_builds_what_dbt_builds(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference_file = HERE / "reference" / f"{name}.json"
    assert reference_file.exists(), f"no reference for {name}: record it with {RECORD.format(name=name)}"
    reference = json.loads(reference_file.read_text())
    stale = reference.get("project_checksum") != project_checksum(HERE / "projects" / name)
    assert not stale, (
        f"{name} changed since its reference was recorded: re-record it with {RECORD.format(name=name)}"
    )
    project = tmp_path / name
    shutil.copytree(HERE / "projects" / name, project, ignore=shutil.ignore_patterns("target", "*.duckdb*"))
    monkeypatch.chdir(project)
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.sqlflow/profiles.yml of the machine

    commands = build_with_sqlflow(project)
    relations = relation_facts(database_file(project), clock_columns=reference["clock_columns"])

    differences = compare_relations(reference["relations"], relations)
    differences += compare_commands(reference["commands"], commands)
    known = KNOWN_DIFFERENCES.get(name, {})
    unexpected = [line for line in differences if line not in known]
    gone = [line for line in known if line not in differences]
    outputs = "\n".join(f"--- sqlflow {c}\n{commands[c]['output']}" for c in COMMANDS)
    assert not unexpected, f"{name} differs from dbt:\n  " + "\n  ".join(unexpected) + "\n" + outputs
    assert not gone, f"{name}: fixed, remove from KNOWN_DIFFERENCES:\n  " + "\n  ".join(gone)


def test_every_project_has_a_reference() -> None:
    missing = [n for n in PROJECTS if not (HERE / "reference" / f"{n}.json").exists()]
    assert not missing, "no reference for " + ", ".join(
        f"{n} (record it with {RECORD.format(name=n)})" for n in missing
    )
