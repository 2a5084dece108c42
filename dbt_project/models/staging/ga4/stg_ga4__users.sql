with source as (
    {{ source_or_empty('ga4', 'ga4__users', {
        '_account_id': 'varchar',
        'grain': 'varchar',
        'period_start': 'date',
        'period_end': 'date',
        'total_users': 'bigint',
        '_loaded_at': 'timestamp',
    }) }}
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
