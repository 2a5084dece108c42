with source as (
    {{ source_or_empty('stripe', 'stripe__customer_first_charges', {
        '_account_id': 'varchar', 'customer': 'varchar', 'charge_id': 'varchar',
        'created_at': 'timestamp', 'created_day': 'date', 'time_zone': 'varchar',
        'currency': 'varchar', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(customer as {{ dbt.type_string() }}) as customer_id,
        cast(charge_id as {{ dbt.type_string() }}) as charge_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(created_day as date) as date_day,
        upper(cast(currency as {{ dbt.type_string() }})) as currency_code,
        _loaded_at as loaded_at
    from source
)

select * from renamed
