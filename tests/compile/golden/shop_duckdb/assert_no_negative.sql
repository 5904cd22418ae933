select * from "main_marts"."fct_orders" where amount < 0
