-- Every order's amount equals the sum of its payments. A returned row is a failure.
select o.order_id, o.amount, p.paid
from {{ ref('orders') }} as o
join (
    select order_id, sum(amount) as paid
    from {{ ref('stg_payments') }}
    group by order_id
) as p using (order_id)
where abs(o.amount - p.paid) > 0.001
