with source as (
    {{ source_or_empty('meta_ads', 'meta_ads__campaign_insights', {
        '_account_id': 'varchar', 'date': 'date', 'campaign_id': 'varchar',
        'campaign_name': 'varchar', 'impressions': 'bigint', 'clicks': 'bigint',
        'inline_link_clicks': 'bigint', 'spend': 'decimal(18, 6)', 'conversions': 'double',
        'conversion_value': 'decimal(18, 6)', 'conversion_action_types': 'varchar',
        'account_currency': 'varchar', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(inline_link_clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks_all,
        cast(spend as {{ dbt.type_numeric() }}) as spend,
        cast(conversions as {{ type_double() }}) as conversions,
        cast(conversion_value as {{ dbt.type_numeric() }}) as conversion_value,
        cast(conversion_action_types as {{ dbt.type_string() }}) as conversion_action_types,
        upper(cast(account_currency as {{ dbt.type_string() }})) as currency,
        _loaded_at as loaded_at
    from source
)

select * from renamed
