"""The former home of the unit tests' SQL, now `sqlflow.compile.nodes.unit_tests` (this path still works)."""

from sqlflow.compile.nodes.unit_tests import *  # noqa: F403
from sqlflow.compile.nodes.unit_tests import DIFF_COLUMN, actual_sql, quote, unit_test_sql  # noqa: F401
