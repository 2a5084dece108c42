with source as (
    {{ source_or_empty('zendesk', 'zendesk__tickets', {
        '_account_id': 'varchar', 'id': 'bigint', 'created_at': 'timestamp', 'created_day': 'date',
        'updated_at': 'timestamp', 'status': 'varchar', 'priority': 'varchar', 'via_channel': 'varchar',
        'reply_minutes_calendar': 'bigint', 'reply_minutes_business': 'bigint',
        'full_resolution_minutes_calendar': 'bigint', 'solved_at': 'timestamp',
        'satisfaction_score': 'varchar', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(created_day as date) as created_day,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(priority as {{ dbt.type_string() }}) as priority,
        cast(via_channel as {{ dbt.type_string() }}) as via_channel,
        cast(reply_minutes_calendar as {{ dbt.type_bigint() }}) as reply_minutes_calendar,
        cast(reply_minutes_business as {{ dbt.type_bigint() }}) as reply_minutes_business,
        cast(full_resolution_minutes_calendar as {{ dbt.type_bigint() }}) as full_resolution_minutes_calendar,
        cast(solved_at as {{ dbt.type_timestamp() }}) as solved_at,
        cast(satisfaction_score as {{ dbt.type_string() }}) as satisfaction_score,
        _loaded_at as loaded_at
    from source
)

select * from renamed
