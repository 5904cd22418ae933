-- compiled into target/compiled, never run
select order_month, count(*) as n_orders
from {{ ref('stg_orders') }}
group by order_month
