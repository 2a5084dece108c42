-- Money that could not be converted to the reporting currency: the FX rate for that currency and
-- day is missing (load raw/fx__ecb_rates for the window, or check the currency code).
select
    'missing FX rate ' || currency_code || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }}) as problem
from {{ ref('fct_web_traffic_daily') }}
where purchase_revenue <> 0 and purchase_revenue_reporting is null
