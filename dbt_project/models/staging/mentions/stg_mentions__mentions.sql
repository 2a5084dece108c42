with source as (
    {{ source_or_empty('mentions', 'mentions__mentions', {
        'mention_key': 'varchar', 'mentioned_at': 'timestamp', 'mention_date': 'date',
        'source': 'varchar', 'url': 'varchar', 'linked_url': 'varchar', 'text': 'varchar',
        'matched_brand': 'varchar', '_file_name': 'varchar', '_line': 'bigint',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(mention_key as {{ dbt.type_string() }}) as mention_key,
        cast(mentioned_at as timestamp) as mentioned_at,
        cast(mention_date as date) as mention_date,
        cast(lower(source) as {{ dbt.type_string() }}) as source,
        cast(url as {{ dbt.type_string() }}) as url,
        cast(linked_url as {{ dbt.type_string() }}) as linked_url,
        cast(text as {{ dbt.type_string() }}) as mention_text,
        cast(matched_brand as {{ dbt.type_string() }}) as matched_brand,
        cast(_file_name as {{ dbt.type_string() }}) as file_name,
        cast(_line as {{ dbt.type_bigint() }}) as file_line,
        _loaded_at as loaded_at
    from source
),

deduplicated as (
    {{ first_row_per('renamed', 'mention_key', 'loaded_at desc, file_name desc, file_line') }}
)

select * from deduplicated
