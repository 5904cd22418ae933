select
    id as customer_id,
    {{ dbt.concat(['first_name', "' '", 'last_name']) }} as full_name,
    {{ dbt.split_part('email', "'@'", 2) }} as email_domain,
    {{ dbt.length('last_name') }} as last_name_length,
    {{ dbt.position("'a'", 'first_name') }} as first_a,
    {{ dbt.replace('last_name', "'O'''", "'O-'") }} as last_name_plain,
    {{ dbt.right('first_name', 2) }} as first_name_end,
    {{ dbt.hash('email') }} as email_hash,
    {{ dbt.string_literal(dbt.escape_single_quotes("it's")) }} as quoted,
    {{ dbt.cast_bool_to_text('email is null') }} as email_missing
from {{ ref('raw_customers') }}
