select *
from "main"."orders"
where not (amount < 1000)
limit 5
