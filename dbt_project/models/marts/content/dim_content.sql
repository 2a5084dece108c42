-- Every content piece: WordPress posts, pieces listed in the cost file, and GA4 page paths under
-- CONTENT_PATH_PREFIXES. Keyed by the normalized URL path (url_path()). The production cost is
-- converted to KPI_REPORTING_CURRENCY with the ECB rate of the publish day.
with posts as (
    {{ first_row_per(ref('stg_wordpress__posts'), 'content_path', 'published_at, post_id') }}
),

costs as (
    select * from {{ ref('stg_content_costs__costs') }}
),

ga4_paths as (
    select distinct {{ url_path('page_path') }} as content_path from {{ ref('stg_ga4__pages') }}
    union
    select distinct {{ url_path('landing_page') }} from {{ ref('stg_ga4__landing_pages') }}
),

pieces as (
    select content_path from posts
    union
    select content_path from costs
    union
    select content_path from ga4_paths where {{ is_content_path('content_path') }}
)

select
    p.content_path,
    coalesce(w.title, c.title) as title,
    w.url,
    w.post_id as wordpress_post_id,
    coalesce(w.published_date, c.published_date) as published_date,
    c.cost as production_cost,
    c.currency_code as cost_currency,
    cast(
        {{ to_reporting_currency('c.cost', 'c.currency_code', 'fx.rate_to_reporting') }}
        as {{ type_double() }}
    ) as production_cost_reporting,
    w.content_path is not null as in_wordpress,
    c.content_path is not null as in_costs_file
from pieces as p
left join posts as w on p.content_path = w.content_path
left join costs as c on p.content_path = c.content_path
left join {{ ref('int_fx_rates_daily') }} as fx
    on fx.currency = c.currency_code
    and fx.date_day = coalesce(w.published_date, c.published_date)
