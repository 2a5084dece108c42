with source as (
    {{ source_or_empty('fx', 'fx__ecb_rates', {
        'currency': 'varchar',
        'rate_date': 'date',
        'units_per_eur': 'decimal(38, 9)',
        '_loaded_at': 'timestamp',
    }) }}
),

renamed as (
    select
        upper(cast(currency as {{ dbt.type_string() }})) as currency,
        cast(rate_date as date) as rate_date,
        cast(units_per_eur as {{ type_double() }}) as units_per_eur
    from source
)

select * from renamed
