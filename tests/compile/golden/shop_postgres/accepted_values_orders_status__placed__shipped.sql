select status as value_field, count(*) as n_records
from "main_marts"."fct_orders"
where status not in ('placed', 'shipped')
group by status
