{{ config(schema='marts', alias='fct_orders') }}
with o as (
    select * from {{ ref('stg_orders') }}
)
select o.order_id, o.customer_id, c.name, {{ cents('o.amount') }} as amount, o.status
from o
left join stg_customers as c on c.customer_id = o.customer_id
