select *
from "main"."orders"
where not (amount >= 0 and amount <= 100)
