"""Time the dependency graph on a large random DAG: building it (with its deterministic order) and walking
ancestors and descendants.

    python bench/bench_graph.py [--nodes 10000] [--edges 20000] [--walks 20] [--repeat 5] [--seed 7]

Prints the best of --repeat for each step. The target (once a test limit, now a figure to watch): build and
order 10,000 nodes and 20,000 edges in < 0.5 s, and 20 ancestor + descendant walks in < 0.5 s.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from sqlflow.graph import Dag


def random_parents(nodes: int, edges: int, seed: int) -> dict[str, list[str]]:
    """A random DAG: each edge goes from a lower to a higher index."""
    rng = random.Random(seed)
    names = [f"model.big.n{i:05d}" for i in range(nodes)]
    parents: dict[str, list[str]] = {name: [] for name in names}
    for _ in range(edges):
        low, high = sorted(rng.sample(range(nodes), 2))
        parents[names[high]].append(names[low])
    return parents


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=20_000)
    parser.add_argument("--walks", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    parents = random_parents(args.nodes, args.edges, args.seed)
    build = best(lambda: Dag(parents).topological_order(), args.repeat)
    dag = Dag(parents)
    order = dag.topological_order()
    picked = order[:: max(1, len(order) // args.walks)]

    def walk() -> None:
        for uid in picked:
            dag.ancestors(uid)
            dag.descendants(uid)

    walks = best(walk, args.repeat)
    print(f"{args.nodes:,} nodes, {args.edges:,} edges (best of {args.repeat})")
    print(f"build + order   {build * 1000:9.1f} ms   (target < 500 ms)")
    print(f"{len(picked)} walks up+down {walks * 1000:7.1f} ms   (target < 500 ms)")


if __name__ == "__main__":
    main()
