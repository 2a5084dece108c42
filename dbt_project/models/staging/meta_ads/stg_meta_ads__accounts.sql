with source as (
    {{ source_or_empty('meta_ads', 'meta_ads__accounts', {
        '_account_id': 'varchar', 'date': 'date', 'name': 'varchar', 'currency': 'varchar',
        'timezone_name': 'varchar'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(name as {{ dbt.type_string() }}) as account_name,
        upper(cast(currency as {{ dbt.type_string() }})) as currency,
        cast(timezone_name as {{ dbt.type_string() }}) as time_zone
    from source
)

select * from renamed
