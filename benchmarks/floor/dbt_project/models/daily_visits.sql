{{
    config(
        materialized='incremental',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where day >= cast('{{ var('min_date') }}' as date) and day < cast('{{ var('max_date') }}' as date){% endif %}",
    )
}}
select day, sum(visits) as visits
from {{ source('raw', 'events') }}
where day >= cast('{{ var('min_date') }}' as date) and day < cast('{{ var('max_date') }}' as date)
group by day
