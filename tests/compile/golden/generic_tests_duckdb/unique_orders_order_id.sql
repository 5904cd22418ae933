select order_id as unique_field, count(*) as n_records
from (select * from "main"."orders" where status <> 'test') as dbt_subquery
where order_id is not null
group by order_id
having count(*) > 1
limit 10
