with source as (
    {{ source_or_empty('ga4', 'ga4__leads', {
        '_account_id': 'varchar',
        'date': 'date',
        'session_default_channel_group': 'varchar',
        'event_count': 'bigint',
        '_loaded_at': 'timestamp',
    }) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as property_id,
        cast(date as date) as date_day,
        cast(session_default_channel_group as {{ dbt.type_string() }}) as channel_group,
        cast(event_count as {{ dbt.type_bigint() }}) as leads,
        _loaded_at as loaded_at
    from source
)

select * from renamed
