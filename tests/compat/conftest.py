"""tests/compat: the dbt projects under projects/ are data, not test modules (a python model is a .py)."""

collect_ignore = ["projects", "record_reference.py"]
