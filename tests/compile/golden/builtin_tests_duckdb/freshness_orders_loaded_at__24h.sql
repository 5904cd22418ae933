select latest, CURRENT_TIMESTAMP - INTERVAL '1' DAY as oldest_allowed
from (select max(loaded_at) as latest from "main"."orders") as freshness
where latest is null or latest < CURRENT_TIMESTAMP - INTERVAL '1' DAY
