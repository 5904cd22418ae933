select * from {{ ref('stg_orders') }} where this_model_is = 'disabled'
