"""Where profiles.yml is found (as dbt finds it), when the embedded DuckDB default applies, the errors for a
profile or target that names nothing, and --project-dir naming the project folder itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import load_project, project_root

from .conftest import WriteFiles
from .helpers import exactly


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of the test's own, and neither profiles variable set."""
    folder = tmp_path / "home"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    return folder


def profiles(folder: Path, output: str, profile: str = "shop") -> Path:
    """A profiles.yml in `folder` whose only output is named `output` (so a test sees which file won)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(f"{profile}:\n  outputs:\n    {output}: {{type: duckdb}}\n")
    return folder


STEPS = ("explicit", "sqlflow_env", "dbt_env", "project", "home_sqlflow", "home_dbt")


def test_each_step_wins_over_the_later_ones(
    shop: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = {
        "explicit": tmp_path / "explicit",
        "sqlflow_env": tmp_path / "sqlflow_env",
        "dbt_env": tmp_path / "dbt_env",
        "project": shop,
        "home_sqlflow": home / ".sqlflow",
        "home_dbt": home / ".dbt",
    }
    monkeypatch.setenv("SQLFLOW_PROFILES_DIR", str(folders["sqlflow_env"]))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(folders["dbt_env"]))
    # written last first: each new file must win over every one already there
    for step in reversed(STEPS):
        profiles(folders[step], step)
        explicit = folders["explicit"] if step == "explicit" else None
        target = load_project(shop, profiles_dir=explicit).target
        assert (target.name, target.profiles_file) == (step, str(folders[step] / "profiles.yml"))


def test_sqlflow_profiles_dir_wins_over_dbt_profiles_dir(
    shop: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_PROFILES_DIR", str(profiles(tmp_path / "dbt", "from_dbt")))
    assert load_project(shop).target.name == "from_dbt"
    monkeypatch.setenv("SQLFLOW_PROFILES_DIR", str(profiles(tmp_path / "sqlflow", "from_sqlflow")))
    assert load_project(shop).target.name == "from_sqlflow"


def test_a_variable_naming_a_folder_without_profiles_falls_through(
    shop: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("SQLFLOW_PROFILES_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "empty"))
    profiles(home / ".dbt", "from_home_dbt")
    assert load_project(shop).target.name == "from_home_dbt"


def test_the_default_only_when_nothing_is_found(shop: Path, home: Path) -> None:
    target = load_project(shop).target
    assert (target.name, target.type, target.profiles_file) == ("default", "duckdb", None)
    assert target.settings == {"path": str(shop / "shop.duckdb")}
    assert load_project(shop, target="default").target.name == "default"


def test_a_dbt_profiles_file_in_home_is_used(shop: Path, home: Path) -> None:
    profiles(home / ".dbt", "dev")
    target = load_project(shop).target
    assert (target.name, target.profiles_file) == ("dev", str(home / ".dbt" / "profiles.yml"))


def test_a_named_profile_without_any_profiles_file(home: Path, write: WriteFiles) -> None:
    root = write({"dbt_project.yml": "name: shop\nprofile: jaffle\n"})
    message = (
        f"profile 'jaffle' not found: no profiles.yml in {root}, {home / '.sqlflow'} or {home / '.dbt'} "
        "('profile:' in dbt_project.yml names it; write a profiles.yml, or remove 'profile:' "
        "to build into the embedded DuckDB shop.duckdb)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_the_searched_folders_include_the_variables(
    home: Path, write: WriteFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "nowhere"))
    root = write({"sqlflow.yml": "name: shop\nprofile: shop\n"})
    searched = f"{tmp_path / 'nowhere'}, {root}, {home / '.sqlflow'} or {home / '.dbt'}"
    with pytest.raises(
        ConfigError, match=re.escape(f"profile 'shop' not found: no profiles.yml in {searched} (")
    ):
        load_project(root)


def test_a_named_profile_missing_from_the_file(home: Path, write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: shop\nprofile: shops\n"})
    profiles(home / ".dbt", "dev", profile="shop")
    message = (
        f"no profile 'shops' in {home / '.dbt' / 'profiles.yml'} "
        "(named by 'profile:' in sqlflow.yml; did you mean 'shop'? profiles there: shop)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_the_project_name_missing_from_the_file(shop: Path, home: Path) -> None:
    profiles(home / ".sqlflow", "dev", profile="warehouse")
    message = (
        f"no profile 'shop' in {home / '.sqlflow' / 'profiles.yml'} "
        "(sqlflow.yml has no 'profile:', so the project's name is used; profiles there: warehouse)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop)


def test_an_empty_profiles_file(shop: Path, home: Path) -> None:
    (shop / "profiles.yml").write_text("")
    message = (
        f"no profile 'shop' in {shop / 'profiles.yml'} "
        "(sqlflow.yml has no 'profile:', so the project's name is used; it holds no profiles)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop)


def test_an_unknown_target_names_the_file_and_suggests(shop: Path, home: Path) -> None:
    (home / ".dbt").mkdir()
    (home / ".dbt" / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb}\n    prod: {type: duckdb}\n"
    )
    message = (
        f"{home / '.dbt' / 'profiles.yml'}:1: unknown target 'prd' in profile 'shop' "
        "(did you mean 'prod'? available targets: dev, prod)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop, target="prd")


def test_an_unknown_target_without_any_profiles_file(shop: Path, home: Path) -> None:
    message = (
        f"unknown target 'prod' (no profiles.yml in {shop}, {home / '.sqlflow'} or {home / '.dbt'}, "
        "so the only target is 'default' (the embedded DuckDB shop.duckdb))"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop, target="prod")


def test_project_dir_names_the_project_folder(shop: Path, tmp_path: Path) -> None:
    assert project_root(shop, tmp_path) == shop
    assert project_root(Path("project"), tmp_path) == shop  # relative to the current folder


def test_project_dir_is_not_searched_upward(shop: Path, tmp_path: Path) -> None:
    message = (
        f"no sqlflow.yml or dbt_project.yml in {shop / 'models'} "
        "(--project-dir must name the project folder itself; folders above it are not searched)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        project_root(shop / "models", tmp_path)


def test_without_project_dir_the_current_folder_is_searched_upward(shop: Path) -> None:
    assert project_root(None, shop / "models" / "staging") == shop
