"""The node graph: `build_dag` (dependencies, order, cycles) and `select_nodes` (--select / --exclude).

Pure and deterministic; imports only `sqlflow.manifest`, `sqlflow.errors` and the stdlib.
"""

from sqlflow.graph.dag import Dag, build_dag, find_cycle
from sqlflow.graph.select import (
    INDIRECT_SELECTION,
    IndirectSelection,
    parse_selection,
    select_nodes,
    unmatched_terms,
)

__all__ = [
    "INDIRECT_SELECTION",
    "Dag",
    "IndirectSelection",
    "build_dag",
    "find_cycle",
    "parse_selection",
    "select_nodes",
    "unmatched_terms",
]
