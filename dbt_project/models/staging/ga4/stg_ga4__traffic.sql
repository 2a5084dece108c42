with source as (
    {{ source_or_empty('ga4', 'ga4__traffic', {
        '_account_id': 'varchar',
        'date': 'date',
        'session_default_channel_group': 'varchar',
        'sessions': 'bigint',
        'engaged_sessions': 'bigint',
        'screen_page_views': 'bigint',
        'user_engagement_duration': 'double',
        'key_events': 'double',
        'purchase_revenue': 'decimal(38, 9)',
        'new_users': 'bigint',
        'currency_code': 'varchar',
        'time_zone': 'varchar',
        'data_loss_from_other_row': 'boolean',
        'subject_to_thresholding': 'boolean',
        'sampled': 'boolean',
        '_loaded_at': 'timestamp',
    }) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as property_id,
        cast(date as date) as date_day,
        cast(session_default_channel_group as {{ dbt.type_string() }}) as channel_group,
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(engaged_sessions as {{ dbt.type_bigint() }}) as engaged_sessions,
        cast(screen_page_views as {{ dbt.type_bigint() }}) as screen_page_views,
        cast(user_engagement_duration as {{ type_double() }}) as user_engagement_seconds,
        cast(key_events as {{ type_double() }}) as key_events,
        cast(purchase_revenue as {{ dbt.type_numeric() }}) as purchase_revenue,
        cast(new_users as {{ dbt.type_bigint() }}) as new_users,
        cast(currency_code as {{ dbt.type_string() }}) as currency_code,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone,
        cast(data_loss_from_other_row as boolean) as data_loss_from_other_row,
        cast(subject_to_thresholding as boolean) as subject_to_thresholding,
        cast(sampled as boolean) as sampled,
        _loaded_at as loaded_at
    from source
)

select * from renamed
