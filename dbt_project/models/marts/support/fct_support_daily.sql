-- Customer service per day x account for every day the account was pulled for.
with days as (
    select distinct account_id, date_day from {{ ref('stg_zendesk__sync_days') }}
),

tickets as (
    select
        account_id,
        date_day,
        count(*) as tickets_created,
        sum(case when is_resolved then 1 else 0 end) as tickets_resolved,
        sum(case when has_reply then 1 else 0 end) as tickets_replied,
        sum(reply_minutes_calendar) as reply_minutes_sum,
        sum(reply_minutes_business) as reply_business_minutes_sum
    from {{ ref('fct_support_tickets') }}
    where not is_deleted
    group by account_id, date_day
),

ratings as (
    select
        account_id,
        rated_day as date_day,
        sum(case when score = 'good' then 1 else 0 end) as ratings_good,
        sum(case when score = 'bad' then 1 else 0 end) as ratings_bad,
        sum(case when score = 'offered' then 1 else 0 end) as ratings_offered
    from {{ ref('stg_zendesk__satisfaction_ratings') }}
    group by account_id, rated_day
)

select
    d.date_day,
    d.account_id,
    coalesce(t.tickets_created, 0) as tickets_created,
    cast(coalesce(t.tickets_resolved, 0) as {{ dbt.type_bigint() }}) as tickets_resolved,
    cast(coalesce(t.tickets_replied, 0) as {{ dbt.type_bigint() }}) as tickets_replied,
    cast(coalesce(t.reply_minutes_sum, 0) as {{ dbt.type_bigint() }}) as reply_minutes_sum,
    cast(coalesce(t.reply_business_minutes_sum, 0) as {{ dbt.type_bigint() }}) as reply_business_minutes_sum,
    cast(coalesce(r.ratings_good, 0) as {{ dbt.type_bigint() }}) as ratings_good,
    cast(coalesce(r.ratings_bad, 0) as {{ dbt.type_bigint() }}) as ratings_bad,
    cast(coalesce(r.ratings_offered, 0) as {{ dbt.type_bigint() }}) as ratings_offered
from days as d
left join tickets as t on t.account_id = d.account_id and t.date_day = d.date_day
left join ratings as r on r.account_id = d.account_id and r.date_day = d.date_day
