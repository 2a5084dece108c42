with source as (
    {{ source_or_empty('marketing_costs', 'marketing_costs__monthly', {
        'month': 'date', 'category': 'varchar', 'amount': 'decimal(18, 6)',
        'currency': 'varchar', 'note': 'varchar'}) }}
),

renamed as (
    select
        cast(month as date) as month_start,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        upper(cast(currency as {{ dbt.type_string() }})) as currency,
        cast(note as {{ dbt.type_string() }}) as note
    from source
)

select * from renamed
