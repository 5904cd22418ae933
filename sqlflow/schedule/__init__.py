"""Schedules: cron arithmetic (pure, `cron.py`)."""
