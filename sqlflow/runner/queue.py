"""The ready queue of a run: which ready step starts next, and which pool has room for it.

Ready steps start by priority (higher first), then by the longest path of known durations from the step to
the end of the plan (the critical path), then in plan order; a step of a full pool waits while the others
go. Pure bookkeeping for `execute`'s loop (calling thread only); imports no driver and reads no clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from sqlflow.manifest import Manifest, ModelNode
from sqlflow.runner.plan import Plan


class ReadyQueue:
    """The ready steps of one run (a heap), the pools they hold and their remaining critical paths."""

    def __init__(
        self,
        plan: Plan,
        manifest: Manifest,
        children: Mapping[str, list[str]],
        pools: Mapping[str, int] | None = None,
    ) -> None:
        self.plan = plan
        self.children = children
        self.position = {step.unique_id: i for i, step in enumerate(plan.steps)}
        self.pools = dict(pools or {})
        self.pool_busy = dict.fromkeys(self.pools, 0)
        self.pool_of: dict[str, str] = {}
        self.priority: dict[str, int] = {}
        for step in plan.steps:
            node = manifest.nodes.get(step.unique_id)
            if isinstance(node, ModelNode):
                if node.config.pool:
                    self.pool_of[step.unique_id] = node.config.pool
                if node.config.priority:
                    self.priority[step.unique_id] = node.config.priority
        self.ready: list[tuple[tuple[int, float, int], str]] = []  # the ready queue (a heap)
        self.remaining: dict[str, float] = {}  # the longest path of known durations from a step to the end

    def __len__(self) -> int:
        return len(self.ready)

    def push(self, uid: str) -> None:
        heapq.heappush(self.ready, (self.rank(uid), uid))

    def critical_paths(self, durations: Mapping[str, float]) -> None:
        """The longest remaining path of each step, from the last durations in the state store: the queue
        starts the step that leads the longest chain first."""
        if not durations:
            return
        for step in reversed(self.plan.steps):
            uid = step.unique_id
            after = max((self.remaining.get(c, 0.0) for c in self.children[uid]), default=0.0)
            self.remaining[uid] = durations.get(uid, 0.0) + after

    def rank(self, uid: str) -> tuple[int, float, int]:
        """Ready steps start by priority (higher first), then longest remaining path, then plan order."""
        return (-self.priority.get(uid, 0), -round(self.remaining.get(uid, 0.0), 3), self.position[uid])

    def next_startable(self) -> str | None:
        """Pop the first ready step whose pool has room (the others stay queued)."""
        ready = self.ready
        held = []
        found = None
        while ready:
            entry = heapq.heappop(ready)
            pool = self.pool_of.get(entry[1])
            if pool is None or self.pool_busy.get(pool, 0) < self.pools.get(pool, 1):
                found = entry[1]
                if pool is not None:
                    self.pool_busy[pool] = self.pool_busy.get(pool, 0) + 1
                break
            held.append(entry)
        for entry in held:
            heapq.heappush(ready, entry)
        return found

    def release(self, uid: str) -> None:
        """The step is done: its pool has room again."""
        pool = self.pool_of.get(uid)
        if pool is not None and self.pool_busy.get(pool, 0) > 0:
            self.pool_busy[pool] -= 1
