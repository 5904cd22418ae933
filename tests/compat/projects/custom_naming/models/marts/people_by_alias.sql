{{ config(alias='people_final', schema=none) }}
select * from {{ ref('stg_people') }}
