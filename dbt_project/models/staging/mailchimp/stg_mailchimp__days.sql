with source as (
    {{ source_or_empty('mailchimp', 'mailchimp__days') }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(campaigns_sent as {{ dbt.type_bigint() }}) as campaigns_sent,
        _loaded_at as loaded_at
    from source
)

select * from renamed
