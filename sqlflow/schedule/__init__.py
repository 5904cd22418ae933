"""Schedules: cron arithmetic (pure, `cron.py`), the scheduler loop (`loop.py`, the only code that reads
the clock or sleeps) and what it reports (`events.py`)."""
