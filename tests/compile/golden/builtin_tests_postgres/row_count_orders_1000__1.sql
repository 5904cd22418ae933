select row_count
from (select count(*) as row_count from "main"."orders") as counted
where row_count < 1 or row_count > 1000
