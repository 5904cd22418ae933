select order_id
from "main_marts"."fct_orders"
where order_id is null
