"""Record what dbt-core + dbt-duckdb make of each project in tests/compat/projects/: the reference.

    python tests/compat/record_reference.py                  # the projects that have no reference yet
    python tests/compat/record_reference.py jaffle_classic   # (re-)record these
    python tests/compat/record_reference.py --all            # re-record every project
    python tests/compat/record_reference.py --schemas        # also write dbt's artifact JSON schemas

Runs with the dev venv's Python (it needs duckdb). dbt runs in a venv of its own (`--dbt-venv`, created
with the pinned versions below when missing; PyPI must be reachable). For each project, a copy in a
temporary folder gets `dbt seed`, `run`, `snapshot`, `test` and `build`, in that order, as
tests/compat/test_reference.py runs sqlflow. Each command's exit code and its run_results.json statuses
(unique_id -> status) are kept, then the facts of every relation of the DuckDB file (see facts.py). The
result goes to tests/compat/reference/<project>.json, with the versions that made it. Review the diff of
a re-recorded reference before committing it: it is the expected output of sqlflow's test.

`--schemas` writes the JSON schemas of manifest.json and run_results.json as that dbt-core generates them
from its artifact classes to tests/compat/schemas/ (test_artifacts.py validates sqlflow's files with them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository root, for `tests.compat.facts`

from tests.compat.facts import (  # noqa: E402
    COMMANDS,
    project_checksum,
    relation_facts,
    snapshot_clock_columns,
    statuses,
)

PROJECTS = HERE / "projects"
REFERENCE = HERE / "reference"
SCHEMAS = HERE / "schemas"
# the versions the checked-in references were recorded with (dbt-core 1.12 pulls in a parser that
# downloads a binary from outside PyPI at install time; 1.11 is the newest line that installs from PyPI)
DBT_CORE = "1.11.16"
DBT_DUCKDB = "1.11.1"
DEFAULT_VENV = Path(tempfile.gettempdir()) / f"sqlflow-dbt-{DBT_CORE}-venv"


def ensure_dbt(venv: Path) -> Path:
    """The dbt executable of `venv`, installing dbt-core and dbt-duckdb there first when missing."""
    dbt = venv / "bin" / "dbt"
    if not dbt.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"dbt-core=={DBT_CORE}", f"dbt-duckdb=={DBT_DUCKDB}"], check=True)
    return dbt


def versions(venv: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in ('dbt-core', 'dbt-duckdb', 'duckdb')}))"
    )
    python = str(venv / "bin" / "python")
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def write_schemas(venv: Path) -> None:
    """dbt-core's JSON schemas of manifest.json and run_results.json, generated from its classes."""
    code = (
        "import json, sys\n"
        "from dbt.artifacts.schemas.manifest import WritableManifest\n"
        "from dbt.artifacts.schemas.run import RunResultsArtifact\n"
        "json.dump({'manifest_v12': WritableManifest.json_schema(),"
        " 'run_results_v6': RunResultsArtifact.json_schema()}, sys.stdout)\n"
    )
    python = str(venv / "bin" / "python")
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    SCHEMAS.mkdir(exist_ok=True)
    for name, schema in json.loads(out.stdout).items():
        (SCHEMAS / f"{name}.json").write_text(json.dumps(schema, sort_keys=True) + "\n")
        print(f"wrote {SCHEMAS / name}.json", file=sys.stderr)


def database_file(project: Path) -> Path:
    """The one DuckDB file a build left in the project folder."""
    found = sorted(project.glob("*.duckdb"))
    if len(found) != 1:
        raise SystemExit(f"{project}: expected one *.duckdb file after the build, found {found}")
    return found[0]


def record(name: str, dbt: Path, venv: Path) -> dict[str, Any]:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / name
        shutil.copytree(PROJECTS / name, work, ignore=shutil.ignore_patterns("target", "*.duckdb*", "logs"))
        commands: dict[str, Any] = {}
        for command in COMMANDS:
            results = work / "target" / "run_results.json"
            results.unlink(missing_ok=True)
            done = subprocess.run(
                [str(dbt), "--no-use-colors", command, "--profiles-dir", ".", "--project-dir", "."],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            )
            print(f"{name}: dbt {command} -> exit {done.returncode}", file=sys.stderr)
            if done.returncode not in (0, 1):  # 2: dbt could not run the project at all
                raise SystemExit(f"dbt {command} failed on {name}:\n{done.stdout}\n{done.stderr}")
            commands[command] = {"exit_code": done.returncode, "statuses": statuses(results)}
        manifest = json.loads((work / "target" / "manifest.json").read_text())
        clock = snapshot_clock_columns(manifest)
        return {
            "project": name,
            "project_checksum": project_checksum(PROJECTS / name),
            "recorded_with": versions(venv),
            "commands": commands,
            "clock_columns": clock,
            "relations": relation_facts(database_file(work), clock_columns=clock),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("projects", nargs="*", help="project folders (default: those without a reference)")
    parser.add_argument("--all", action="store_true", help="re-record every project")
    parser.add_argument("--schemas", action="store_true", help="write dbt's artifact JSON schemas")
    parser.add_argument("--dbt-venv", type=Path, default=DEFAULT_VENV, help=f"default {DEFAULT_VENV}")
    args = parser.parse_args(argv)
    every = sorted(p.name for p in PROJECTS.iterdir() if (p / "dbt_project.yml").exists())
    missing = [n for n in every if not (REFERENCE / f"{n}.json").exists()]
    names = every if args.all else args.projects or missing
    unknown = sorted(set(names) - set(every))
    if unknown:
        raise SystemExit(f"no such project under {PROJECTS}: {', '.join(unknown)}")
    if args.schemas:
        ensure_dbt(args.dbt_venv)
        write_schemas(args.dbt_venv)
    if not names:
        print("every project has a reference; name projects or pass --all to re-record", file=sys.stderr)
        return
    dbt = ensure_dbt(args.dbt_venv)
    REFERENCE.mkdir(exist_ok=True)
    for name in names:
        doc = record(name, dbt, args.dbt_venv)
        (REFERENCE / f"{name}.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        print(f"wrote {REFERENCE / name}.json", file=sys.stderr)


if __name__ == "__main__":
    main()
