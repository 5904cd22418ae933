select *
from (select * from "main"."orders" where status <> 'test') as dbt_subquery
where not (amount >= 0)
