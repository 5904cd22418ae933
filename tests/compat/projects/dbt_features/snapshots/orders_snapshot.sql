{% snapshot orders_snapshot %}
{{ config(unique_key='id', strategy='check', check_cols=['status', 'amount']) }}
select id, customer_id, amount, status from {{ ref('raw_orders') }}
{% endsnapshot %}
