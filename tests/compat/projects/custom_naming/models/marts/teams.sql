select team, count(*) as n_people, '{{ this.schema }}.{{ this.identifier }}' as this_name
from {{ ref('stg_people') }}
group by team
