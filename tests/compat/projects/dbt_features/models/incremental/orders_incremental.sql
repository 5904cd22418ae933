{{ config(unique_key='order_id', on_schema_change='ignore') }}

select order_id, customer_id, order_date, amount, status
from {{ ref('stg_orders') }}
{% if is_incremental() %}
where order_date > (select coalesce(max(order_date), date '1900-01-01') from {{ this }})
{% endif %}
