{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('send_date')) }}",
    )
}}
-- One row per Mailchimp campaign, dated by its send day (KPI_TIMEZONE), with its
-- lifetime-cumulative counts as of report_as_of. Rates are recomputed over delivered emails;
-- Mailchimp's own rates stay beside them for reconciliation.
select
    send_date,
    campaign_id,
    account_id,
    campaign_title,
    list_id,
    send_time,
    time_zone,
    emails_sent,
    hard_bounces,
    soft_bounces,
    syntax_errors,
    bounces,
    delivered,
    unique_opens,
    proxy_excluded_unique_opens,
    unique_subscriber_clicks,
    unique_clicks,
    unsubscribes,
    abuse_reports,
    forwards,
    orders,
    revenue,
    currency_code,
    {{ safe_divide('unique_opens', 'delivered') }} as open_rate,
    {{ safe_divide('unique_subscriber_clicks', 'delivered') }} as click_rate,
    reported_open_rate,
    reported_click_rate,
    report_as_of
from {{ ref('stg_mailchimp__campaigns') }}
where {{ in_partition_window('send_date') }}
