"""sqlflow: a SQL-first pipeline compiler, runner and scheduler."""

__version__ = "0.1.0"
