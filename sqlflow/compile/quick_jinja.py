"""The old path of the quick Jinja path, now `sqlflow.compile.jinja.quick_jinja` (this path still works)."""

from sqlflow.compile.jinja.quick_jinja import *  # noqa: F403
from sqlflow.compile.jinja.quick_jinja import NotQuick, QuickTemplate  # noqa: F401
