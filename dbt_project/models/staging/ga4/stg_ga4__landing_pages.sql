with source as (
    {{ source_or_empty('ga4', 'ga4__landing_pages', {
        '_account_id': 'varchar',
        'date': 'date',
        'landing_page': 'varchar',
        'sessions': 'bigint',
        'engaged_sessions': 'bigint',
        'screen_page_views': 'bigint',
        'user_engagement_duration': 'double',
        'key_events': 'double',
        'purchase_revenue': 'decimal(38, 9)',
        'currency_code': 'varchar',
        '_loaded_at': 'timestamp',
    }) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as property_id,
        cast(date as date) as date_day,
        cast(landing_page as {{ dbt.type_string() }}) as landing_page,
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(engaged_sessions as {{ dbt.type_bigint() }}) as engaged_sessions,
        cast(screen_page_views as {{ dbt.type_bigint() }}) as screen_page_views,
        cast(user_engagement_duration as {{ type_double() }}) as user_engagement_seconds,
        cast(key_events as {{ type_double() }}) as key_events,
        cast(purchase_revenue as {{ dbt.type_numeric() }}) as purchase_revenue,
        cast(currency_code as {{ dbt.type_string() }}) as currency_code,
        _loaded_at as loaded_at
    from source
)

select * from renamed
