-- Each customer's first succeeded charge ever: the day that makes them a new customer. The
-- earliest of the loaded succeeded charges and the first charge Stripe reports before a pulled
-- window (stg_stripe__customer_first_charges), so a returning customer whose first charge
-- predates the loaded history is never new.
with candidates as (
    select account_id, customer_id, charge_id, created_at, date_day, currency_code
    from {{ ref('stg_stripe__charges') }}
    where status = 'succeeded' and customer_id is not null
    union all
    select account_id, customer_id, charge_id, created_at, date_day, currency_code
    from {{ ref('stg_stripe__customer_first_charges') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by account_id, customer_id order by created_at, charge_id
        ) as nth
    from candidates
)

select account_id, customer_id, charge_id, date_day, currency_code
from ranked
where nth = 1
