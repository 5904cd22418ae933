select row_count
from (select count(*) as row_count from "main"."orders") as counted
where row_count > 0
