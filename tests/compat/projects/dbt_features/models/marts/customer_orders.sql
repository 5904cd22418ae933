with orders as (
    select * from {{ ref('stg_orders') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
)

select
    customers.customer_id,
    customers.full_name,
    count(orders.order_id) as n_orders,
    coalesce(sum(orders.amount), 0) as total_amount,
    min(orders.order_date) as first_order_date,
    max(orders.order_date) as last_order_date,
    {{ dbt.datediff('min(orders.order_date)', 'max(orders.order_date)', 'day') }} as active_days,
    {{ dbt.dateadd('month', 1, 'min(orders.order_date)') }} as month_after_first,
    {{ dbt.last_day('min(orders.order_date)', 'month') }} as first_month_end,
    {{ dbt.listagg('orders.status', "', '", 'order by orders.order_id') }} as statuses,
    {{ dbt.bool_or("orders.status = 'returned'") }} as has_return,
    cast({{ dbt.any_value('customers.full_name') }} as {{ dbt.type_string() }}) as any_name,
    cast(count(*) as {{ dbt.type_bigint() }}) as n_rows,
    cast(1 as {{ dbt.type_int() }}) as one,
    cast(1.5 as {{ dbt.type_float() }}) as one_and_a_half,
    cast('2024-01-01' as {{ dbt.type_timestamp() }}) as epoch,
    cast(true as {{ dbt.type_boolean() }}) as yes
from customers
left join orders on orders.customer_id = customers.customer_id
where customers.customer_id is not null
    and (orders.order_date is null or orders.order_date < {{ dbt.current_timestamp() }})
group by customers.customer_id, customers.full_name
