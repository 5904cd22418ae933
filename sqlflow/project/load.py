"""load_project(): a project folder -> a validated `Project` (project file, target, files, properties);
project_root(): which folder that is.

Imports only `sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

from pathlib import Path

from sqlflow.errors import ConfigError
from sqlflow.project.discovery import discover
from sqlflow.project.docblocks import read_doc_blocks, read_packages
from sqlflow.project.packages import install_path, read_dispatch, read_installed_packages, read_project_keys
from sqlflow.project.profiles import resolve_target
from sqlflow.project.projectfile import find_project_root, project_file_in, read_project_file
from sqlflow.project.properties import read_properties
from sqlflow.project.types import Project


def project_root(project_dir: Path | None, cwd: Path) -> Path:
    """The project folder. `project_dir` (--project-dir) must hold sqlflow.yml or dbt_project.yml itself, as
    in dbt; without it, the nearest folder at or above `cwd` that holds one (dbt wants `cwd` itself)."""
    if project_dir is None:
        return find_project_root(cwd)
    folder = (cwd / Path(project_dir).expanduser()).absolute()
    if project_file_in(folder) is None:
        raise ConfigError(
            f"no sqlflow.yml or dbt_project.yml in {folder}",
            hint="--project-dir must name the project folder itself; folders above it are not searched",
        )
    return folder


def load_project(root: Path, *, target: str | None = None, profiles_dir: Path | None = None) -> Project:
    """Read the project in the folder `root`; `target` picks an output of its profile (default: the
    profile's `target:`), `profiles_dir` the folder of profiles.yml. Raises ConfigError on bad config."""
    root = Path(root).absolute()
    spec = read_project_file(root)
    files = discover(
        root,
        model_paths=spec.model_paths,
        seed_paths=spec.seed_paths,
        test_paths=spec.test_paths,
        macro_paths=spec.macro_paths,
        target_path=spec.target_path,
        snapshot_paths=spec.snapshot_paths,
        analysis_paths=spec.analysis_paths,
        docs_paths=spec.docs_paths or None,
    )
    properties = read_properties(files.property_files, root, test_paths=spec.test_paths)
    shown, keys = read_project_keys(root)
    return Project(
        root=root,
        name=spec.name,
        config_file=spec.file,
        profile=spec.profile,
        dialect=spec.dialect,
        model_paths=spec.model_paths,
        seed_paths=spec.seed_paths,
        test_paths=spec.test_paths,
        macro_paths=spec.macro_paths,
        snapshot_paths=spec.snapshot_paths,
        target_path=spec.target_path,
        clean_targets=spec.clean_targets,
        vars=spec.vars,
        model_configs=spec.model_configs,
        seed_configs=spec.seed_configs,
        test_configs=spec.test_configs,
        snapshot_configs=spec.snapshot_configs,
        pools=spec.pools,
        notifications=spec.notifications,
        schedules=spec.schedules,
        target=resolve_target(
            root, spec.name, spec.profile, target=target, profiles_dir=profiles_dir, project_file=spec.file
        ),
        model_files=files.model_files,
        seed_files=files.seed_files,
        test_files=files.test_files,
        macro_files=files.macro_files,
        snapshot_files=files.snapshot_files,
        model_properties=properties.models,
        seed_properties=properties.seeds,
        snapshot_properties=properties.snapshots,
        source_tables=properties.source_tables,
        sensors=properties.sensors,
        analysis_paths=spec.analysis_paths,
        analysis_files=files.analysis_files,
        doc_blocks=read_doc_blocks(files.doc_files),
        unit_tests=properties.unit_tests,
        quoting=spec.quoting,
        on_run_start=spec.on_run_start,
        on_run_end=spec.on_run_end,
        run_audits=spec.run_audits,
        packages=read_packages(root),
        installed_packages=read_installed_packages(root, install_path(shown, keys)),
        dispatch=read_dispatch(shown, keys),
        warnings=(*spec.warnings, *properties.warnings),
    )
