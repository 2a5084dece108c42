with source as (
    {{ source_or_empty('hubspot', 'hubspot__deals', {
        '_account_id': 'varchar', 'id': 'varchar', 'created_at': 'timestamp', 'created_day': 'date',
        'closed_at': 'timestamp', 'close_day': 'date', 'last_modified_at': 'timestamp',
        'deal_stage': 'varchar', 'stage_label': 'varchar', 'pipeline': 'varchar', 'is_closed': 'boolean',
        'is_won': 'boolean', 'amount': 'decimal(24,6)', 'deal_currency_code': 'varchar',
        'currency_is_portal_default': 'boolean', 'archived': 'boolean', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as portal_id,
        cast(id as {{ dbt.type_string() }}) as deal_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(created_day as date) as created_day,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        cast(close_day as date) as close_day,
        cast(last_modified_at as {{ dbt.type_timestamp() }}) as last_modified_at,
        cast(deal_stage as {{ dbt.type_string() }}) as deal_stage,
        cast(stage_label as {{ dbt.type_string() }}) as stage_label,
        cast(pipeline as {{ dbt.type_string() }}) as pipeline,
        cast(is_closed as boolean) as is_closed,
        cast(is_won as boolean) as is_won,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        upper(cast(deal_currency_code as {{ dbt.type_string() }})) as currency_code,
        cast(currency_is_portal_default as boolean) as currency_is_portal_default,
        cast(archived as boolean) as is_archived,
        _loaded_at as loaded_at
    from source
)

select * from renamed
