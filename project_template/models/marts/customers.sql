with customer_orders as (
    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as order_count,
        sum(amount) as lifetime_value
    from {{ ref('orders') }}
    where status <> 'returned'
    group by customer_id
)
select
    c.customer_id,
    c.first_name,
    c.last_name,
    c.signed_up_at,
    co.first_order_at,
    co.last_order_at,
    coalesce(co.order_count, 0) as order_count,
    coalesce(co.lifetime_value, 0) as lifetime_value
from {{ ref('stg_customers') }} as c
left join customer_orders as co on co.customer_id = c.customer_id
