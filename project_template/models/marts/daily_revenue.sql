{{ config(materialized='incremental', unique_key='ordered_at') }}

-- Revenue per day. On later runs only the most recent days are recomputed and merged.
select
    ordered_at,
    count(*) as orders,
    sum(amount) as revenue
from {{ ref('orders') }}
where status <> 'returned'
{% if is_incremental() %}
  and ordered_at >= (select max(ordered_at) - interval 3 day from {{ this }})
{% endif %}
group by ordered_at
