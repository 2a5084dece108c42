with source as (
    {{ source_or_empty('search_console', 'search_console__tracked_keywords') }}
),

renamed as (
    select distinct
        lower(trim(cast(keyword_normalized as {{ dbt.type_string() }}))) as keyword_normalized
    from source
    where trim(keyword_normalized) <> ''
)

select * from renamed
