-- Unique-count KPIs, taken per period exactly as the API counted them (never summed over days).
-- is_partial: an account of the segment is missing from the value (social reach and growth).
-- digital.users: GA4 totalUsers; 'all' adds up properties (distinct sites, distinct audiences).
with users as (
    select * from {{ ref('fct_web_users') }}
),

last_day as (
    select max(period_start) as last_observed_day from {{ ref('fct_web_users') }} where grain = 'day'
)

select
    'digital.users' as kpi_id,
    'all' as segment,
    grain,
    period_start,
    cast(sum(total_users) as {{ type_double() }}) as value,
    false as is_partial,
    max(last_day.last_observed_day) as last_observed_day
from users
cross join last_day
group by grain, period_start
union all
select
    'digital.users',
    'property=' || property_id,
    grain,
    period_start,
    cast(total_users as {{ type_double() }}),
    false,
    last_day.last_observed_day
from users
cross join last_day
union all
-- social.reach (average daily reach for weeks/months) and social.follower_growth (snapshot)
select kpi_id, segment, grain, period_start, value, is_partial, last_observed_day
from {{ ref('int_kpi_periods__social') }}
union all
-- customer_service.median_response_time: a median per period, from ticket rows
select kpi_id, segment, grain, period_start, value, false as is_partial, last_observed_day
from {{ ref('int_kpi_periods__customer_service') }}
