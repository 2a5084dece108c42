-- Each customer's first succeeded charge: the day that makes them a new customer.
with succeeded as (
    select
        account_id,
        customer_id,
        charge_id,
        date_day,
        currency_code,
        row_number() over (
            partition by account_id, customer_id order by created_at, charge_id
        ) as nth
    from {{ ref('stg_stripe__charges') }}
    where status = 'succeeded' and customer_id is not null
)

select account_id, customer_id, charge_id, date_day, currency_code
from succeeded
where nth = 1
