with source as (
    {{ source_or_empty('ga4', 'ga4__page_leads', {
        '_account_id': 'varchar', 'date': 'date', 'page_path': 'varchar', 'event_count': 'bigint',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as property_id,
        cast(date as date) as date_day,
        cast(page_path as {{ dbt.type_string() }}) as page_path,
        cast(event_count as {{ dbt.type_bigint() }}) as leads,
        _loaded_at as loaded_at
    from source
)

select * from renamed
