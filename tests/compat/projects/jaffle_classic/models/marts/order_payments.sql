{{ config(materialized='ephemeral') }}

select
    order_id,
    {% for payment_method in var('payment_methods') -%}
    sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,
    {% endfor -%}
    sum(amount) as total_amount
from {{ ref('stg_payments') }}
group by order_id
