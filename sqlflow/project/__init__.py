"""Reading a project folder: sqlflow.yml / dbt_project.yml, profiles.yml, property YAML and file discovery.

Everything here yields validated, frozen data (`types.Project`); errors are ConfigError with file:line.
Imports only `sqlflow.errors` and `sqlflow.manifest` (and pyyaml; jinja2 only to render env_var in profiles).
"""

from sqlflow.project.config import folder_config, merge_config, normalise_config
from sqlflow.project.load import load_project, project_root
from sqlflow.project.projectfile import find_project_root
from sqlflow.project.types import (
    NodeProperties,
    Project,
    SensorSpec,
    SourceFile,
    SourceTable,
    Target,
    TestSpec,
)

__all__ = [
    "NodeProperties",
    "Project",
    "SensorSpec",
    "SourceFile",
    "SourceTable",
    "Target",
    "TestSpec",
    "find_project_root",
    "folder_config",
    "load_project",
    "merge_config",
    "normalise_config",
    "project_root",
]
