select child.from_field
from (select customer_id as from_field from "main"."orders" where customer_id is not null) as child
left join (select id as to_field from "raw"."payments") as parent
  on child.from_field = parent.to_field
where parent.to_field is null
