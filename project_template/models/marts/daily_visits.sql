select
    cast(occurred_at as date) as visited_on,
    count(*) as page_views,
    count(distinct customer_id) as visitors
from {{ ref('stg_web_events') }}
group by 1
