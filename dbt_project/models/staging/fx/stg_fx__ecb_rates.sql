with source as (
    select * from {{ source('fx', 'fx__ecb_rates') }}
),

renamed as (
    select
        upper(cast(currency as {{ dbt.type_string() }})) as currency,
        cast(rate_date as date) as rate_date,
        cast(units_per_eur as {{ type_double() }}) as units_per_eur
    from source
)

select * from renamed
