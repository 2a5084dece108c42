with source as (
    {{ source_or_empty('google_ads', 'google_ads__accounts', {
        '_account_id': 'varchar', 'date': 'date', 'descriptive_name': 'varchar',
        'currency_code': 'varchar', 'time_zone': 'varchar'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(descriptive_name as {{ dbt.type_string() }}) as account_name,
        upper(cast(currency_code as {{ dbt.type_string() }})) as currency,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone
    from source
)

select * from renamed
