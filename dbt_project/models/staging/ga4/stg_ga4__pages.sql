with source as (
    {{ source_or_empty('ga4', 'ga4__pages', {
        '_account_id': 'varchar', 'date': 'date', 'page_path': 'varchar',
        'screen_page_views': 'bigint', 'user_engagement_duration': 'double',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as property_id,
        cast(date as date) as date_day,
        cast(page_path as {{ dbt.type_string() }}) as page_path,
        cast(screen_page_views as {{ dbt.type_bigint() }}) as screen_page_views,
        cast(user_engagement_duration as {{ type_double() }}) as user_engagement_seconds,
        _loaded_at as loaded_at
    from source
)

select * from renamed
