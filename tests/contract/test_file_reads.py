"""SQL written for DuckDB that reads files, run unchanged on every engine: DuckDB reads the CSV files itself,
PostgreSQL gets them loaded by sqlflow before the model; a time-range model reads the model through its
filtered (and aliased) ref; a missing file fails the model with the glob and its name."""

from __future__ import annotations

from datetime import datetime

from .engines import Engine, messages, statuses

FILES = {
    "landing/2025-03-01.csv": (
        "event_id;page;occurred_at\n1;/cart;2025-03-01 10:00:00\n2;/home;2025-03-02 11:00:00\n"
    ),
    "landing/2025-04-01.csv": "event_id;page;occurred_at\n3;/cart;2025-04-05 09:30:00\n",
    "models/stg_events.sql": """
        -- page views from landing/, written for DuckDB
        select event_id, page, cast(occurred_at as timestamp) as occurred_at
        from read_csv('landing/*.csv', header = true, delim = ';')
    """,
    "models/events.sql": "{{ config(materialized='table') }} select * from {{ ref('stg_events') }}",
    "models/schema.yml": """
        version: 2
        models:
          - name: stg_events
            config: {time_column: occurred_at}
    """,
    "models/monthly_views.sql": """
        {{ config(materialized='incremental', incremental_strategy='time_range', time_column='month',
                  batch_size='month', begin='2025-03-01') }}
        select cast(date_trunc('month', stg_events.occurred_at) as date) as month, count(*) as views
        from {{ ref('stg_events') }}
        group by 1
    """,
}


def test_a_model_reading_csv_files_runs_on_every_engine(engine: Engine) -> None:
    engine.write(FILES)
    out = engine.run("build")
    assert statuses(out) == {"stg_events": "success", "events": "success", "monthly_views": "success"}
    assert engine.rows("events") == [  # a table: DuckDB resolves the view's relative glob only in a run
        (1, "/cart", datetime(2025, 3, 1, 10)),
        (2, "/home", datetime(2025, 3, 2, 11)),
        (3, "/cart", datetime(2025, 4, 5, 9, 30)),
    ]
    assert engine.rows("monthly_views") == [
        (datetime(2025, 3, 1).date(), 2),
        (datetime(2025, 4, 1).date(), 1),
    ]
    # a new file: the next run reads it (PostgreSQL: reloads the table under the model's view)
    engine.write({"landing/2025-05-01.csv": "event_id;page;occurred_at\n4;/home;2025-05-01 08:00:00\n"})
    out = engine.run("build", select_=["stg_events+"])
    assert statuses(out) == {"stg_events": "success", "events": "success", "monthly_views": "success"}
    assert engine.count("events") == 4
    assert (engine.kind("stg_events"), engine.kind("events")) == ("view", "table")


def test_no_file_to_read_fails_the_model_naming_the_glob(engine: Engine) -> None:
    engine.write({"models/stg_events.sql": "select * from read_csv('landing/*.csv', header = true)\n"})
    out = engine.run("build")
    assert statuses(out) == {"stg_events": "error"}
    message = messages(out)["stg_events"] or ""
    if engine.is_pg:
        assert message == (
            "models/stg_events.sql: no file matches 'landing/*.csv', read by model stg_events "
            f"(relative paths start at the project folder, {engine.root})"
        )
    else:
        assert "landing/*.csv" in message  # DuckDB's own message
