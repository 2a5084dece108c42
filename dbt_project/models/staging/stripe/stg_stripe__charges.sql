with source as (
    {{ source_or_empty('stripe', 'stripe__charges', {
        '_account_id': 'varchar', 'id': 'varchar', 'created_at': 'timestamp', 'created_day': 'date',
        'time_zone': 'varchar', 'status': 'varchar', 'currency': 'varchar',
        'amount': 'decimal(18,3)', 'amount_captured': 'decimal(18,3)', 'amount_refunded': 'decimal(18,3)',
        'captured': 'boolean', 'refunded': 'boolean', 'disputed': 'boolean', 'customer': 'varchar',
        'failure_code': 'varchar', 'livemode': 'boolean', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(id as {{ dbt.type_string() }}) as charge_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(created_day as date) as date_day,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone,
        cast(status as {{ dbt.type_string() }}) as status,
        upper(cast(currency as {{ dbt.type_string() }})) as currency_code,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        cast(amount_captured as {{ dbt.type_numeric() }}) as amount_captured,
        cast(amount_refunded as {{ dbt.type_numeric() }}) as amount_refunded,
        cast(captured as boolean) as is_captured,
        cast(refunded as boolean) as is_fully_refunded,
        cast(disputed as boolean) as is_disputed,
        cast(customer as {{ dbt.type_string() }}) as customer_id,
        cast(failure_code as {{ dbt.type_string() }}) as failure_code,
        cast(livemode as boolean) as is_livemode,
        _loaded_at as loaded_at
    from source
)

select * from renamed
