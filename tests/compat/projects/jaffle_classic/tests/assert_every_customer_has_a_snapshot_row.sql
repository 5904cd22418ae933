select c.customer_id
from {{ ref('stg_customers') }} as c
left join {{ ref('customers_snapshot') }} as s on c.customer_id = s.customer_id
where s.customer_id is null
