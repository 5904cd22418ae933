{{ config(
    materialized='incremental',
    incremental_strategy='time_range',
    time_column='visited_on',
    batch_size='month',
    begin='2025-03-01',
) }}

-- Visits per day, built one month at a time. sqlflow records each processed month in its interval
-- ledger, so a run fills exactly the months still missing, and `sqlflow backfill --select daily_visits
-- --start 2025-03-01 --end 2025-04-01` restates one. ref('stg_web_events') is filtered to the month being
-- processed because stg_web_events declares a time_column; start and end are its bounds.
select
    cast(occurred_at as date) as visited_on,
    count(*) as page_views,
    count(distinct customer_id) as visitors
from {{ ref('stg_web_events') }}
group by 1
