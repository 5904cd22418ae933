SELECT id AS order_id, customer_id, amount, status FROM "raw"."orders"
