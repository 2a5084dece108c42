-- Won HubSpot deals whose amount could not be converted to the reporting currency: the FX rate
-- for the deal currency and close day is missing (load raw/fx__ecb_rates for the window).
select
    'missing FX rate ' || currency_code || ' -> ' || {{ reporting_currency() }}
        || ' on ' || cast(date_day as {{ dbt.type_string() }}) || ' (deal ' || deal_id || ')' as problem
from {{ ref('fct_crm_deals_won') }}
where amount <> 0 and amount_reporting is null
