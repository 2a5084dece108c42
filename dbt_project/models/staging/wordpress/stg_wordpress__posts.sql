with source as (
    {{ source_or_empty('wordpress', 'wordpress__posts', {
        '_account_id': 'varchar', 'post_id': 'bigint', 'link': 'varchar', 'title': 'varchar',
        'published_at': 'timestamp', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as site,
        cast(post_id as {{ dbt.type_bigint() }}) as post_id,
        cast(link as {{ dbt.type_string() }}) as url,
        {{ url_path('link') }} as content_path,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(published_at as timestamp) as published_at,
        cast(published_at as date) as published_date,
        _loaded_at as loaded_at
    from source
)

select * from renamed
