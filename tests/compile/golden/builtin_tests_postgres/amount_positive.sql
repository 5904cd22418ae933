select *
from "main"."orders"
where not (amount > 0)
