SELECT * FROM "main_marts"."fct_orders" WHERE amount < 0
