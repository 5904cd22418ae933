-- every order's payments add up to zero or more
select order_id, amount
from {{ ref('orders') }}
where amount < 0
