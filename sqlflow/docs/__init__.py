"""Documentation of a project: model and column lineage (lineage.py, pure), the static site (site.py) and
its server (serve.py). Imported by sqlflow.api; imports nothing above it."""
