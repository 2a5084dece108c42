with source as (
    {{ source_or_empty('content_costs', 'content_costs__costs', {
        'url': 'varchar', 'cost': 'decimal(18, 2)', 'currency': 'varchar',
        'published_date': 'date', 'title': 'varchar', 'line': 'bigint',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(url as {{ dbt.type_string() }}) as url,
        {{ url_path('url') }} as content_path,
        cast(cost as decimal(18, 2)) as cost,
        cast(upper(currency) as {{ dbt.type_string() }}) as currency_code,
        cast(published_date as date) as published_date,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(line as {{ dbt.type_bigint() }}) as file_line,
        _loaded_at as loaded_at
    from source
),

-- A piece listed twice keeps its last line (the file is edited by hand).
deduplicated as (
    {{ first_row_per('renamed', 'content_path', 'file_line desc') }}
)

select * from deduplicated
