-- Our per-campaign rates (count / delivered) equal Mailchimp's own opens.open_rate and
-- clicks.click_rate for the same campaign: delivered and the numerators are the ones it uses.
select campaign_id, open_rate, reported_open_rate, click_rate, reported_click_rate
from {{ ref('fct_email_campaigns') }}
where abs(open_rate - reported_open_rate) > 1e-9
   or abs(click_rate - reported_click_rate) > 1e-9
