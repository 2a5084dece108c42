-- The account-days each platform was pulled for, with the account's currency and time zone:
-- the days on which a campaign the API did not return had no delivery (zero, not missing).
select 'google_ads' as platform, account_id, date_day, account_name, currency, time_zone
from {{ ref('stg_google_ads__accounts') }}
union all
select 'meta_ads' as platform, account_id, date_day, account_name, currency, time_zone
from {{ ref('stg_meta_ads__accounts') }}
