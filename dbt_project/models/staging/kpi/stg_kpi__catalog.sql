with source as (
    select * from {{ source('kpi', 'kpi_catalog') }}
),

renamed as (
    select
        kpi_id,
        channel,
        name as kpi_name,
        unit,
        direction,
        aggregation,
        formula,
        min_denominator
    from source
)

select * from renamed
