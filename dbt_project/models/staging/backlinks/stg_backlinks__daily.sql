with source as (
    {{ source_or_empty('backlinks', 'backlinks__daily') }}
),

renamed as (
    select
        cast(date as date) as date_day,
        cast(provider as {{ dbt.type_string() }}) as provider,
        cast(target as {{ dbt.type_string() }}) as target,
        cast(live_backlinks as {{ dbt.type_bigint() }}) as live_backlinks,
        cast(live_referring_domains as {{ dbt.type_bigint() }}) as live_referring_domains,
        cast(all_time_backlinks as {{ dbt.type_bigint() }}) as all_time_backlinks,
        cast(all_time_referring_domains as {{ dbt.type_bigint() }}) as all_time_referring_domains,
        _loaded_at as loaded_at
    from source
)

select * from renamed
