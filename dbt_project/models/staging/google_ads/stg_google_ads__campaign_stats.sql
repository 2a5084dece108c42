with source as (
    {{ source_or_empty('google_ads', 'google_ads__campaign_stats', {
        '_account_id': 'varchar', 'date': 'date', 'campaign_id': 'varchar',
        'campaign_name': 'varchar', 'campaign_status': 'varchar', 'impressions': 'bigint',
        'clicks': 'bigint', 'cost_micros': 'bigint', 'cost': 'decimal(18, 6)', 'conversions': 'double',
        'conversions_value': 'decimal(18, 6)', 'currency_code': 'varchar', 'time_zone': 'varchar',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(campaign_status as {{ dbt.type_string() }}) as campaign_status,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(cost_micros as {{ dbt.type_bigint() }}) as cost_micros,
        cast(cost as {{ dbt.type_numeric() }}) as spend,
        cast(conversions as {{ type_double() }}) as conversions,
        cast(conversions_value as {{ dbt.type_numeric() }}) as conversion_value,
        upper(cast(currency_code as {{ dbt.type_string() }})) as currency,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone,
        _loaded_at as loaded_at
    from source
)

select * from renamed
