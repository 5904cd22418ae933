-- Orders with what was paid, by method.
with payments as (
    select * from {{ ref('order_payments') }}
)
select
    o.order_id,
    o.customer_id,
    o.ordered_at,
    o.status,
    {% for method in var('payment_methods') -%}
    coalesce(p.{{ method }}_amount, 0) as {{ method }}_amount,
    {% endfor -%}
    coalesce(p.total_amount, 0) as amount
from stg_orders as o  -- a plain table name: sqlflow sees the dependency on stg_orders by itself
left join payments as p using (order_id)
