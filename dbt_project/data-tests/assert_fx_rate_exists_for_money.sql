{{ config(meta={"dagster": {"ref": {"name": "fct_web_traffic_daily"}}}) }}
-- Dagster shows it as a check of fct_web_traffic_daily (a singular test with several parents needs one).
-- Money that could not be converted to the reporting currency: the FX rate for that currency and
-- day is missing (load raw/fx__ecb_rates for the window, or check the currency code).
select
    'missing FX rate ' || currency_code || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }}) as problem
from {{ ref('fct_web_traffic_daily') }}
where purchase_revenue <> 0 and purchase_revenue_reporting is null
union all
select
    'missing FX rate ' || currency_code || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }}) || ' (Stripe charges)'
from {{ ref('fct_sales_daily') }}
where gross_amount <> 0 and gross_amount_reporting is null
union all
select
    'missing FX rate ' || currency_code || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }}) || ' (HubSpot deal ' || deal_id || ')'
from {{ ref('fct_crm_deals_won') }}
where amount <> 0 and amount_reporting is null
union all
select
    'missing FX rate ' || currency || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }})
        || ' (fct_paid_ads_daily ' || platform || ' account ' || account_id || ')'
from {{ ref('fct_paid_ads_daily') }}
where (spend <> 0 and spend_reporting is null)
   or (conversion_value <> 0 and conversion_value_reporting is null)
union all
select
    'missing FX rate ' || currency || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }})
        || ' (marketing cost ' || category || ')'
from {{ ref('int_other_marketing_costs_daily') }}
where {{ in_partition_window('date_day') }}
  and amount <> 0 and amount_reporting is null
union all
select
    'missing FX rate ' || upper(unconverted_revenue_currencies) || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }})
        || ' (fct_content_daily landing revenue of ' || content_path || ')'
from {{ ref('fct_content_daily') }}
where unconverted_revenue_currencies is not null
union all
select
    'missing FX rate ' || cost_currency || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(published_date as {{ dbt.type_string() }})
        || ' (production cost of ' || content_path || ')'
from {{ ref('dim_content') }}
where {{ in_kpi_period_window('published_date') }}
  and published_date is not null and production_cost <> 0 and production_cost_reporting is null
