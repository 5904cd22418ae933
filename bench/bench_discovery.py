"""Time loading a project of many small models: discovery (walking the folders, reading and hashing every
file) and the rest of `load_project`, on a warm file system cache.

    python bench/bench_discovery.py [--models 10000] [--folders 100] [--repeat 5] [--keep DIR]

Prints the best of --repeat. The target (once a test limit, now a figure to watch): 10,000 models load in
< 1 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlflow.project import load_project


def write_project(root: Path, models: int, folders: int) -> None:
    (root / "sqlflow.yml").write_text("name: big\n")
    per_folder = -(-models // folders)
    for i in range(models):
        folder = root / "models" / f"area_{i // per_folder:03}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"model_{i:05}.sql").write_text(f"select {i} as id from {{{{ ref('x_{i}') }}}}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--folders", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the project here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "big"
        root.mkdir(parents=True, exist_ok=True)
        write_project(root, args.models, args.folders)
        load_project(root)  # warm the file system cache, as a second run would
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            project = load_project(root)
            times.append(time.perf_counter() - started)
        assert len(project.model_files) == args.models
    print(
        f"load_project, {args.models:,} models in {args.folders} folders: {min(times) * 1000:.0f} ms "
        f"(best of {args.repeat}; target < 1000 ms for 10,000)"
    )


if __name__ == "__main__":
    main()
