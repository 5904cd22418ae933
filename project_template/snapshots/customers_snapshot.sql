-- Every version of each customer's name and email. raw_customers is overwritten by each load; this
-- snapshot keeps a row per change (valid from dbt_valid_from to dbt_valid_to, NULL for the current one).
-- Built by `sqlflow snapshot` and `sqlflow build`; never rebuilt by --full-refresh.
{% snapshot customers_snapshot %}
{{
    config(
        unique_key='customer_id',
        strategy='check',
        check_cols=['first_name', 'last_name', 'email'],
        hard_deletes='invalidate',
    )
}}
select * from {{ ref('stg_customers') }}
{% endsnapshot %}
