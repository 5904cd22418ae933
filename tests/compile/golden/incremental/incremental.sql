select e.id, e.ts from "main"."events" as e

where e.ts > (select max(ts) from "main"."inc")
  and e.id in (select id from "main"."users")
