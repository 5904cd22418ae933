"""profiles.yml: env_var rendering, targets, and the embedded DuckDB default (the lookup and its errors:
test_profile_lookup.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import Target, load_project

from .conftest import WriteFiles
from .helpers import exactly

PROFILES = """\
    shop:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: data/dev.duckdb
          threads: 4
          extensions: [httpfs]
        ci:
          type: duckdb
          path: ":memory:"
          schema: ci
    """


def test_default_duckdb_target_without_profiles(shop: Path) -> None:
    assert load_project(shop).target == Target(
        name="default",
        profile_name="shop",
        type="duckdb",
        schema="main",
        database="shop",
        settings={"path": str(shop / "shop.duckdb")},
        profiles_file=None,
    )


def test_profiles_in_the_project_folder(shop: Path, write: WriteFiles) -> None:
    write({"profiles.yml": PROFILES}, shop)
    target = load_project(shop).target
    assert target == Target(
        name="dev",
        profile_name="shop",
        type="duckdb",
        schema="main",
        database="dev",
        threads=4,
        settings={"path": str(shop / "data" / "dev.duckdb"), "extensions": ["httpfs"]},
        profiles_file=str(shop / "profiles.yml"),
    )


def test_choose_another_target(shop: Path, write: WriteFiles) -> None:
    write({"profiles.yml": PROFILES}, shop)
    target = load_project(shop, target="ci").target
    assert (target.name, target.schema, target.database, dict(target.settings)) == (
        "ci",
        "ci",
        "memory",
        {"path": ":memory:"},
    )


def test_unknown_target_lists_the_available_ones(shop: Path, write: WriteFiles) -> None:
    write({"profiles.yml": PROFILES}, shop)
    message = "profiles.yml:1: unknown target 'prod' in profile 'shop' (available targets: dev, ci)"
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop, target="prod")


def test_profile_target_key_naming_no_output(shop: Path, write: WriteFiles) -> None:
    write({"profiles.yml": "shop:\n  target: prod\n  outputs:\n    dev: {type: duckdb}\n"}, shop)
    message = "profiles.yml:2: unknown target 'prod' in profile 'shop' (available targets: dev)"
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop)


def test_env_var_is_rendered(shop: Path, write: WriteFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DB", "warehouse.duckdb")
    monkeypatch.setenv("SHOP_THREADS", "8")
    write(
        {
            "profiles.yml": """\
                shop:
                  target: "{{ env_var('SHOP_TARGET', 'dev') }}"
                  outputs:
                    dev:
                      type: duckdb
                      path: "{{ env_var('SHOP_DB') }}"
                      threads: "{{ env_var('SHOP_THREADS') | as_number }}"
                      schema: "{{ env_var('SHOP_SCHEMA', 'analytics') }}"
                """
        },
        shop,
    )
    target = load_project(shop).target
    assert (target.name, target.database, target.threads, target.schema) == (
        "dev",
        "warehouse",
        8,
        "analytics",
    )
    assert target.settings["path"] == str(shop / "warehouse.duckdb")


def test_unset_env_var(shop: Path, write: WriteFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_PASSWORD", raising=False)
    write(
        {
            "profiles.yml": """\
                shop:
                  target: dev
                  outputs:
                    dev:
                      type: postgres
                      host: localhost
                      password: "{{ env_var('SHOP_PASSWORD') }}"
                """
        },
        shop,
    )
    message = (
        "profiles.yml:7: environment variable 'SHOP_PASSWORD' is not set "
        "(set it, or give a default: env_var('SHOP_PASSWORD', '...'))"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop)


def test_only_env_var_is_in_the_context(shop: Path, write: WriteFiles) -> None:
    write(
        {"profiles.yml": "shop:\n  outputs:\n    dev:\n      type: duckdb\n      path: '{{ range(3) }}'\n"},
        shop,
    )
    with pytest.raises(
        ConfigError, match=exactly("profiles.yml:5: cannot render '{{ range(3) }}': 'range' is undefined")
    ):
        load_project(shop)


def test_postgres_target(shop: Path, write: WriteFiles) -> None:
    write(
        {
            "profiles.yml": """\
                shop:
                  target: prod
                  outputs:
                    prod:
                      type: postgres
                      host: db.internal
                      port: "5432"
                      user: sqlflow
                      dbname: analytics
                """
        },
        shop,
    )
    target = load_project(shop).target
    assert (target.type, target.schema, target.database, target.threads) == (
        "postgres",
        "public",
        "analytics",
        None,
    )
    assert target.settings == {"host": "db.internal", "port": 5432, "user": "sqlflow"}


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        ("shop:\n  outputs:\n    dev:\n      type: duckbd\n",
         "profiles.yml:4: unsupported type 'duckbd' in target 'dev' (did you mean 'duckdb'?)"),
        ("shop:\n  outputs:\n    dev:\n      type: snowflake\n",
         "profiles.yml:4: unsupported type 'snowflake' in target 'dev' "
         "(sqlflow runs on duckdb and postgres)"),
        ("shop:\n  outputs:\n    dev:\n      type: duckdb\n      threads: 0\n",
         "profiles.yml:5: 'threads' of target 'dev' must be a whole number of at least 1, not 0"),
        ("shop:\n  target: dev\n", "profiles.yml:1: profile 'shop' has no outputs "
         "(add 'outputs: {dev: {type: duckdb, path: dev.duckdb}}')"),
        ("shop:\n  outputs:\n    a: {type: duckdb}\n    b: {type: duckdb}\n",
         "profiles.yml:1: profile 'shop' has no 'target:' saying which output to use "
         "(add 'target: a' or pass --target)"),
        ("shop: [1]\n", "profiles.yml:1: profile 'shop' must be a mapping, not a list"),
        ("[shop]\n", "profiles.yml:1: profiles.yml must be a mapping of profiles"),
        ("shop:\n  outputs:\n    dev: duckdb\n",
         "profiles.yml:3: target 'dev' must be a mapping, not a string"),
        ("shop:\n  outputs:\n    dev: {path: x.duckdb}\n",
         "profiles.yml:3: target 'dev' has no 'type' (sqlflow runs on duckdb and postgres)"),
        ("shop:\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('X' }}\"\n",
         "profiles.yml:5: cannot render \"{{ env_var('X' }}\": unexpected '}', expected ')'"),
    ],
)  # fmt: skip
def test_profile_errors(shop: Path, write: WriteFiles, profiles: str, message: str) -> None:
    write({"profiles.yml": profiles}, shop)
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop)


def test_single_output_needs_no_target_key(shop: Path, write: WriteFiles) -> None:
    write({"profiles.yml": "shop:\n  outputs:\n    local: {type: duckdb, path: x.duckdb}\n"}, shop)
    assert load_project(shop).target.name == "local"


def test_lookup_order(shop: Path, write: WriteFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def profiles(folder: Path, name: str) -> Path:
        return write({"profiles.yml": f"shop:\n  outputs:\n    {name}: {{type: duckdb}}\n"}, folder)

    home = Path.home() / ".sqlflow"  # tmp_path/home, set by the conftest
    profiles(home, "from_home")
    assert load_project(shop).target.name == "from_home"
    profiles(shop, "from_project")
    assert load_project(shop).target.name == "from_project"
    monkeypatch.setenv("SQLFLOW_PROFILES_DIR", str(profiles(tmp_path / "env", "from_env")))
    assert load_project(shop).target.name == "from_env"
    explicit = profiles(tmp_path / "explicit", "from_argument")
    assert load_project(shop, profiles_dir=explicit).target.name == "from_argument"


def test_explicit_profiles_dir_must_hold_profiles(shop: Path, tmp_path: Path) -> None:
    message = f"no profiles.yml in {tmp_path} (check --profiles-dir, or leave it out)"
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(shop, profiles_dir=tmp_path)
