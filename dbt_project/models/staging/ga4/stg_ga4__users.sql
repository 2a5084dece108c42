with source as (
    select * from {{ source('ga4', 'ga4__users') }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as property_id,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(total_users as {{ dbt.type_bigint() }}) as total_users,
        _loaded_at as loaded_at
    from source
)

select * from renamed
