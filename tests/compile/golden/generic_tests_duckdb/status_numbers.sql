select status as value_field, count(*) as n_records
from "main"."orders"
where status not in (1, 2)
group by status
