with source as (
    select * from {{ source('kpi', 'kpi_targets') }}
),

renamed as (
    select
        kpi_id,
        grain,
        segment,
        cast(effective_from as date) as effective_from,
        cast(effective_to as date) as effective_to,
        cast(target_value as {{ type_double() }}) as target_value,
        cast(warn_tolerance as {{ type_double() }}) as warn_tolerance,
        cast(error_tolerance as {{ type_double() }}) as error_tolerance,
        tolerance_source,
        owner,
        note,
        source_line
    from source
)

select * from renamed
