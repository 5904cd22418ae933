"""Alerts (webhook, Slack, email, Apprise) and Prometheus metrics of runs.

alerts.py decides which alerts a run produces (pure), send.py sends them, metrics.py counts runs for
Prometheus (served by the scheduler, or written to a textfile), report.py wires them after a run.
Nothing here imports `sqlflow.runner` (a sibling layer): runs arrive as RunResult-shaped values.
"""
