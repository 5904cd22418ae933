select "Order Total"
from "main"."orders"
where "Order Total" is null
