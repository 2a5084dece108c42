-- Daily KPI components from Mailchimp campaigns, dated by send day: every email rate is
-- sum(count) / sum(delivered). email.conversion_rate counts only campaigns with e-commerce data
-- (orders NULL is "not tracked", not 0), so its denominator is their delivered emails.
-- Every pulled day is a row of segment 'all' (0 / 0 without a send: the day's rate is NULL), so
-- a week or month is complete once Mailchimp was pulled through its last day.
with campaigns as (
    select * from {{ ref('fct_email_campaigns') }}
),

pulled_days as (
    select distinct date_day from {{ ref('stg_mailchimp__days') }}
),

segmented as (
    select
        send_date as date_day,
        'all' as segment,
        delivered,
        unique_opens,
        unique_subscriber_clicks,
        unsubscribes,
        forwards,
        orders
    from campaigns
    union all
    select date_day, 'all', 0, 0, 0, 0, 0, null
    from pulled_days
    union all
    select
        send_date,
        'list=' || list_id,
        delivered,
        unique_opens,
        unique_subscriber_clicks,
        unsubscribes,
        forwards,
        orders
    from campaigns
),

daily as (
    select
        date_day,
        segment,
        sum(delivered) as delivered,
        sum(unique_opens) as unique_opens,
        sum(unique_subscriber_clicks) as unique_subscriber_clicks,
        sum(unsubscribes) as unsubscribes,
        sum(forwards) as forwards,
        sum(orders) as orders,
        sum(case when orders is not null then delivered else 0 end) as delivered_with_ecommerce
    from segmented
    group by date_day, segment
),

components as (
    select 'email.open_rate' as kpi_id, segment, date_day,
        unique_opens as numerator, delivered as denominator
    from daily
    union all
    select 'email.ctr', segment, date_day, unique_subscriber_clicks, delivered
    from daily
    union all
    select 'email.conversion_rate', segment, date_day, coalesce(orders, 0), delivered_with_ecommerce
    from daily
    union all
    select 'email.unsubscribe_rate', segment, date_day, unsubscribes, delivered
    from daily
    union all
    select 'email.forward_rate', segment, date_day, forwards, delivered
    from daily
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
