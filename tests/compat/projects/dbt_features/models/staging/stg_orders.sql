{{ config(materialized='view') }}

select
    id as order_id,
    customer_id,
    order_date,
    {{ dbt.date_trunc('month', 'order_date') }} as order_month,
    {{ dbt.safe_cast('amount', dbt.type_numeric()) }} as amount,
    {{ to_cents('amount') }} as amount_cents,
    cast(status as {{ dbt.type_string() }}) as status
from {{ ref('raw_orders') }}
where amount >= {{ var('min_amount') }}
