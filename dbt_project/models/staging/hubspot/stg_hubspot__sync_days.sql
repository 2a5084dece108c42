with source as (
    {{ source_or_empty('hubspot', 'hubspot__sync_days', {
        '_account_id': 'varchar', '_partition_date': 'date', 'synced_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as portal_id,
        cast(_partition_date as date) as date_day,
        cast(synced_at as {{ dbt.type_timestamp() }}) as synced_at
    from source
)

select * from renamed
