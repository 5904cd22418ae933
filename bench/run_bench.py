"""Time sqlflow on synthetic projects of growing size and compare `sqlflow run` with a floor.

    python bench/run_bench.py [--sizes 100,1000,10000] [--threads N] [--keep DIR] [--target NAME]

For each size N: generate a project (bench/generate.py), time `sqlflow compile` cold (no target/) and warm
(unchanged project, so the content-hash cache answers), seed (untimed), time `sqlflow run`, and measure the
peak memory of each subprocess. The floor is the same compiled SQL from target/manifest.json executed in
dependency order in ONE connection: DuckDB on a copy of the seeded database, or, for a PostgreSQL
`--target`, psycopg in a fresh schema the seeds were loaded into by `sqlflow seed`: what any runner must
pay. See bench/README.md. Standard library plus duckdb or psycopg (for the floor only) and pyyaml (to read
a --target's profile); imports nothing from sqlflow.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import PROJECT_NAME, generate
from targets import (
    BenchTarget,
    drop_schemas,
    floor_environment,
    floor_statements,
    load_target,
    postgres_floor_seconds,
    set_aside,
)

DATABASE = f"{PROJECT_NAME}.duckdb"


@dataclass(slots=True)
class Step:
    """One sqlflow subprocess: wall time, peak resident memory, exit code and where its output went."""

    command: str
    seconds: float
    peak_mb: float
    returncode: int
    log: str


@dataclass(slots=True)
class SizeResult:
    models: int
    steps: dict[str, Step] = field(default_factory=dict)
    floor_seconds: float | None = None
    floor_mb: float | None = None
    floor_note: str = ""
    manifest_models: int = 0

    def seconds(self, step: str) -> float | None:
        found = self.steps.get(step)
        return found.seconds if found and found.returncode == 0 else None

    @property
    def peak_mb(self) -> float:
        return max((s.peak_mb for s in self.steps.values()), default=0.0)

    @property
    def ratio(self) -> float | None:
        run = self.seconds("run")
        if run is None or not self.floor_seconds:
            return None
        return run / self.floor_seconds

    @property
    def failed(self) -> list[Step]:
        return [s for s in self.steps.values() if s.returncode != 0]


def sqlflow_command(explicit: str | None) -> list[str]:
    """The command that starts sqlflow: --sqlflow, else the script beside this Python, else on PATH."""
    if explicit:
        return [explicit]
    beside = Path(sys.executable).with_name("sqlflow")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sqlflow")
    if found:
        return [found]
    return [sys.executable, "-m", "sqlflow"]


def run_measured(cmd: Sequence[str], *, cwd: Path, log: Path, env: dict[str, str]) -> Step:
    """Run cmd to completion; wall time from start to reap, peak RSS from the child's own rusage (wait4)."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Step(" ".join(cmd), seconds, peak_mb, proc.returncode, str(log))


def floor_seconds(manifest_path: Path, database: Path) -> tuple[float, int]:
    """Execute every model's compiled SQL in dependency order in one DuckDB connection; return the seconds.

    Tables and incremental models become `CREATE OR REPLACE TABLE`, views `CREATE OR REPLACE VIEW`,
    ephemeral models are skipped (they are inlined in their dependents' compiled SQL).
    """
    import duckdb

    statements, models = floor_statements(manifest_path, replace=True)
    start = time.perf_counter()
    con = duckdb.connect(str(database))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return time.perf_counter() - start, models


def bench_size(n: int, root: Path, args: argparse.Namespace) -> SizeResult:
    project = root / f"bench_{n}"
    if project.exists():
        shutil.rmtree(project)
    logs = root / f"logs_{n}"
    logs.mkdir(parents=True, exist_ok=True)
    result = SizeResult(models=n)
    say(f"[{n}] generating into {project}")
    generate(project, models=n, seed=args.seed)
    target = load_target(args.target, n) if args.target else None
    try:
        return _bench_size(n, project, logs, root, args, result, target)
    finally:
        if target is not None and target.type == "postgres":
            drop_schemas(target)


def _bench_size(
    n: int,
    project: Path,
    logs: Path,
    root: Path,
    args: argparse.Namespace,
    result: SizeResult,
    target: BenchTarget | None,
) -> SizeResult:
    base = sqlflow_command(args.sqlflow)
    extra = ["--target", target.name] if target else []
    env = {**os.environ, "NO_COLOR": "1"}
    if target is None:  # no profile at all, so the embedded DuckDB default whatever ~/.sqlflow holds
        env["SQLFLOW_PROFILES_DIR"] = str(root / "no_profiles")
        (root / "no_profiles").mkdir(exist_ok=True)
    else:  # the profile's output, written into the project (PostgreSQL: with a schema of its own)
        target.write_profiles(project)
        env["SQLFLOW_PROFILES_DIR"] = str(project)
        if target.schema:
            say(f"[{n}] target {target.name} ({target.type}), schema {target.schema}")

    def step(name: str, *words: str) -> Step:
        say(f"[{n}] sqlflow {' '.join(words)}")
        done = run_measured([*base, *words, *extra], cwd=project, log=logs / f"{name}.log", env=env)
        done.command = " ".join(["sqlflow", *words, *extra])
        result.steps[name] = done
        if done.returncode != 0:
            say(f"[{n}] {name} exited {done.returncode}; last lines of {done.log}:")
            tail = Path(done.log).read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            say("\n".join("    " + line for line in tail))
        return done

    shutil.rmtree(project / "target", ignore_errors=True)
    step("compile_cold", "compile")
    step("compile_warm", "compile")
    if step("seed", "seed").returncode != 0:
        return result
    kind = target.type if target else "duckdb"
    source_db = target.duckdb_path(project) if target else project / DATABASE
    floor_db = root / f"floor_{n}" / source_db.name  # same file name, so the catalog name matches
    if kind == "duckdb":
        floor_db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", ".wal"):
            source = Path(str(source_db) + suffix)
            if source.exists():
                shutil.copyfile(source, str(floor_db) + suffix)
    threads = ["--threads", str(args.threads)] if args.threads else []
    if step("run", "run", *threads).returncode != 0:
        return result
    manifest = project / "target" / "manifest.json"
    if kind == "duckdb":
        say(f"[{n}] floor: the compiled SQL in one DuckDB connection")
        floor_cmd = [sys.executable, __file__, "--floor", str(manifest), str(floor_db)]
    elif kind == "postgres" and target is not None:
        aside = set_aside(target)
        say(f"[{n}] floor: sqlflow's schema moved to {aside}; seeds loaded again by `sqlflow seed`")
        reseed = run_measured([*base, "seed", *extra], cwd=project, log=logs / "floor_seed.log", env=env)
        if reseed.returncode != 0:
            result.floor_note = f"floor: failed, `sqlflow seed` exited {reseed.returncode} (see {reseed.log})"
            say(f"[{n}] {result.floor_note}")
            return result
        say(f"[{n}] floor: the compiled SQL through one psycopg connection, in the fresh {target.schema}")
        floor_cmd = [sys.executable, __file__, "--floor-postgres", str(manifest)]
        env = {**env, **floor_environment(target)}
    else:
        result.floor_note = f"floor: n/a (measured for duckdb and postgres targets, not {kind})"
        say(f"[{n}] {result.floor_note}")
        return result
    done = run_measured(floor_cmd, cwd=logs, log=logs / "floor.log", env=env)
    if done.returncode == 0:
        measured = json.loads(Path(done.log).read_text(encoding="utf-8").splitlines()[-1])
        result.floor_seconds, result.manifest_models = measured["seconds"], measured["models"]
        result.floor_mb = done.peak_mb
    else:
        result.floor_note = f"floor: failed, see {done.log}"
        say(f"[{n}] {result.floor_note}")
    shutil.rmtree(floor_db.parent, ignore_errors=True)
    return result


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    size: int
    check: str  # "cold", "warm", "ratio" or "peak"
    limit: float

    def value(self, result: SizeResult) -> float | None:
        if self.check == "cold":
            return result.seconds("compile_cold")
        if self.check == "warm":
            return result.seconds("compile_warm")
        if self.check == "ratio":
            return result.ratio
        return result.peak_mb if result.steps else None


TARGETS = (
    Target("compile cold, 1,000 models < 2 s", 1_000, "cold", 2.0),
    Target("compile warm, 1,000 models < 0.5 s", 1_000, "warm", 0.5),
    Target("compile cold, 10,000 models < 20 s", 10_000, "cold", 20.0),
    Target("run, 1,000 models <= 1.2 x floor", 1_000, "ratio", 1.2),
    Target("peak memory, 10,000 models < 1 GB", 10_000, "peak", 1024.0),
)


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: Sequence[SizeResult]) -> str:
    header = ("N", "compile cold s", "compile warm s", "run s", "floor s", "run/floor", "peak MB", "floor MB")
    rows = [header]
    for r in results:
        floor = fmt(r.floor_seconds) if r.floor_seconds is not None else "n/a" if r.floor_note else "-"
        rows.append(
            (
                f"{r.models:,}",
                fmt(r.seconds("compile_cold")),
                fmt(r.seconds("compile_warm")),
                fmt(r.seconds("run")),
                floor,
                fmt(r.ratio),
                fmt(r.peak_mb, 0),
                fmt(r.floor_mb, 0),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for r in results:
        steps = ", ".join(f"{name.replace('_', ' ')} {step.peak_mb:.0f}" for name, step in r.steps.items())
        floor_mb = f", floor {r.floor_mb:.0f}" if r.floor_mb is not None else ""
        lines.append(f"Peak MB, N={r.models:,}: {steps}{floor_mb}")
    by_size = {r.models: r for r in results}
    lines.append("")
    lines.append("Targets:")
    for target in TARGETS:
        result = by_size.get(target.size)
        if result is None:
            verdict, shown = "not measured", f"(size {target.size:,} not in --sizes)"
        else:
            value = target.value(result)
            if value is None:
                verdict, shown = "n/a", "(step failed or floor not measured)"
            else:
                passed = value <= target.limit if target.check == "ratio" else value < target.limit
                verdict = "PASS" if passed else "FAIL"
                unit = {"cold": " s", "warm": " s", "ratio": "x", "peak": " MB"}[target.check]
                shown = f"({value:.2f}{unit})"
        lines.append(f"  {verdict:<12} {target.label} {shown}")
    for r in results:
        if r.floor_note:
            lines.append(f"  N={r.models:,}: {r.floor_note}")
        for s in r.failed:
            lines.append(f"  N={r.models:,}: `{s.command}` exited {s.returncode} (see {s.log})")
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--sizes wants numbers separated by commas, got {text!r}") from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes wants positive numbers")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[100, 1_000, 10_000], help="default 100,1000,10000"
    )
    parser.add_argument("--threads", type=int, help="passed to `sqlflow run --threads` (default: sqlflow's)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="generate into DIR and keep the projects and logs"
    )
    parser.add_argument(
        "--target",
        help="an output of the 'bench' profile in your profiles.yml (duckdb or postgres); see the README",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--sqlflow", metavar="PATH", help="the sqlflow executable (default: beside this Python)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    # internal: the floor runs in its own process so that its memory is measured like sqlflow's
    parser.add_argument(
        "--floor", nargs=2, type=Path, metavar=("MANIFEST", "DATABASE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--floor-postgres", type=Path, metavar="MANIFEST", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor or args.floor_postgres:
        if args.floor:
            seconds, models = floor_seconds(*args.floor)
        else:
            seconds, models = postgres_floor_seconds(args.floor_postgres)
        print(json.dumps({"seconds": seconds, "models": models}))
        return 0

    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="sqlflow-bench-") as scratch:
        root = args.keep.resolve() if args.keep else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            results.append(bench_size(n, root, args))
        text = report(results)
        if not args.keep and any(r.failed for r in results):
            text += "\n  (logs are deleted with the temporary folder: rerun with --keep DIR to read them)"
    print(text)
    if args.json:
        doc = [{**asdict(r), "peak_mb": r.peak_mb, "run_floor_ratio": r.ratio} for r in results]
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
