select order_id, "Order Total", count(*) as n_records
from "main"."orders"
group by order_id, "Order Total"
having count(*) > 1
