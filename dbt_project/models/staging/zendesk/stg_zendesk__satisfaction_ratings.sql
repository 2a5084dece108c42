with source as (
    {{ source_or_empty('zendesk', 'zendesk__satisfaction_ratings', {
        '_account_id': 'varchar', 'id': 'bigint', 'ticket_id': 'bigint', 'score': 'varchar',
        'created_at': 'timestamp', 'rated_day': 'date', 'updated_at': 'timestamp', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(id as {{ dbt.type_bigint() }}) as rating_id,
        cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(score as {{ dbt.type_string() }}) as score,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(rated_day as date) as rated_day,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _loaded_at as loaded_at
    from source
)

select * from renamed
