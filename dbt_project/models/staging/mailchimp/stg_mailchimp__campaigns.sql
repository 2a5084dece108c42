with source as (
    {{ source_or_empty('mailchimp', 'mailchimp__campaigns') }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_title as {{ dbt.type_string() }}) as campaign_title,
        cast(list_id as {{ dbt.type_string() }}) as list_id,
        cast(send_time as {{ dbt.type_timestamp() }}) as send_time,
        cast(send_date as date) as send_date,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone,
        cast(emails_sent as {{ dbt.type_bigint() }}) as emails_sent,
        cast(hard_bounces as {{ dbt.type_bigint() }}) as hard_bounces,
        cast(soft_bounces as {{ dbt.type_bigint() }}) as soft_bounces,
        cast(syntax_errors as {{ dbt.type_bigint() }}) as syntax_errors,
        cast(bounces as {{ dbt.type_bigint() }}) as bounces,
        cast(delivered as {{ dbt.type_bigint() }}) as delivered,
        cast(unique_opens as {{ dbt.type_bigint() }}) as unique_opens,
        cast(proxy_excluded_unique_opens as {{ dbt.type_bigint() }}) as proxy_excluded_unique_opens,
        cast(unique_subscriber_clicks as {{ dbt.type_bigint() }}) as unique_subscriber_clicks,
        cast(unique_clicks as {{ dbt.type_bigint() }}) as unique_clicks,
        cast(unsubscribed as {{ dbt.type_bigint() }}) as unsubscribes,
        cast(abuse_reports as {{ dbt.type_bigint() }}) as abuse_reports,
        cast(forwards as {{ dbt.type_bigint() }}) as forwards,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(revenue as {{ dbt.type_numeric() }}) as revenue,
        cast(currency_code as {{ dbt.type_string() }}) as currency_code,
        cast(reported_open_rate as {{ type_double() }}) as reported_open_rate,
        cast(reported_click_rate as {{ type_double() }}) as reported_click_rate,
        cast(report_as_of as {{ dbt.type_timestamp() }}) as report_as_of,
        _loaded_at as loaded_at
    from source
)

select * from renamed
