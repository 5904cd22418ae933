"""Options shared by every test folder (keep fixtures in each folder's own conftest.py)."""

from __future__ import annotations

import pytest

# --doctest-modules would import this file as a module named `conftest`, clashing with the conftest.py of
# a test folder that is not a package (tests/cli/); it holds no doctests.
collect_ignore = ["conftest.py"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files (tests/**/golden/*) from the current output; review the diff after",
    )
