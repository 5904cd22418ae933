SELECT id AS customer_id, name FROM "raw"."customers_v2"
