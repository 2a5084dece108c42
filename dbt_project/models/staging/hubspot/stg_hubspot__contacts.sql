with source as (
    {{ source_or_empty('hubspot', 'hubspot__contacts', {
        '_account_id': 'varchar', 'id': 'varchar', 'created_at': 'timestamp', 'created_day': 'date',
        'last_modified_at': 'timestamp', 'lifecycle_stage': 'varchar', 'analytics_source': 'varchar',
        'archived': 'boolean', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as portal_id,
        cast(id as {{ dbt.type_string() }}) as contact_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(created_day as date) as created_day,
        cast(last_modified_at as {{ dbt.type_timestamp() }}) as last_modified_at,
        lower(cast(lifecycle_stage as {{ dbt.type_string() }})) as lifecycle_stage,
        cast(analytics_source as {{ dbt.type_string() }}) as analytics_source,
        cast(archived as boolean) as is_archived,
        _loaded_at as loaded_at
    from source
)

select * from renamed
