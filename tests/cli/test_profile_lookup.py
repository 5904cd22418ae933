"""The profile lookup and --project-dir through the CLI: one line naming the file or the folder, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sqlflow.cli.main import cli


def test_project_dir_must_name_the_project_folder(shop: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--no-color", "compile", "--project-dir", "models"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no sqlflow.yml or dbt_project.yml in {shop / 'models'} "
        "(--project-dir must name the project folder itself; folders above it are not searched)\n"
    )


def test_without_project_dir_the_current_folder_is_searched_upward(
    shop: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shop / "models")
    result = runner.invoke(cli, ["--no-color", "compile"])
    assert result.exit_code == 0, result.output


def test_dbt_profiles_in_home_and_a_target_that_names_nothing(
    shop: Path, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / ".dbt").mkdir()
    (tmp_path / ".dbt" / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: dev.duckdb}\n"
    )
    result = runner.invoke(cli, ["--no-color", "compile", "--target", "deb"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / '.dbt' / 'profiles.yml'}:1: unknown target 'deb' in profile 'shop' "
        "(did you mean 'dev'? available targets: dev)\n"
    )
    assert runner.invoke(cli, ["compile"]).exit_code == 0
