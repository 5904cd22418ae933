"""dbt's artifacts: manifest.json (schema v12) and run_results.json (v6), built from typed records.

Tools written for dbt read these files, and some (dbt-artifacts-parser, dbt's own JSON schemas) refuse
keys dbt does not know. So every node and result carries dbt's keys, with dbt's values, and sqlflow's own
facts go where dbt's schemas allow any key: a node's `config.sqlflow`, a result's `adapter_response`,
`metadata.env`. Sensor nodes (resource_type `sensor`) are sqlflow's alone and break strict dbt parsers;
a dbt project has none. `nodes` writes the manifest's entries, `manifest` the whole manifest document,
`run_results` the run-results document. Sits above the manifest and the runner, whose records it reads;
imports no driver and nothing above the runner.
"""

from __future__ import annotations

from sqlflow.artifacts.manifest import manifest_document
from sqlflow.artifacts.plain import plain
from sqlflow.artifacts.run_results import result_document, run_results_document

__all__ = ["manifest_document", "plain", "result_document", "run_results_document"]
