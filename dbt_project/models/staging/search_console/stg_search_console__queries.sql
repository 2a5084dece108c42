with source as (
    {{ source_or_empty('search_console', 'search_console__queries') }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as site_url,
        cast(date as date) as date_day,
        cast(query as {{ dbt.type_string() }}) as query,
        cast(page as {{ dbt.type_string() }}) as page,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(position as {{ type_double() }}) as position,
        cast(is_provisional as boolean) as is_provisional,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone,
        _loaded_at as loaded_at
    from source
)

select * from renamed
