select id as person_id, name, team, '{{ this }}' as this_name from {{ ref('people') }}
