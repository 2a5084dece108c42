with source as (
    {{ source_or_empty('wordpress', 'wordpress__comments', {
        '_account_id': 'varchar', 'comment_id': 'bigint', 'post_id': 'bigint', 'status': 'varchar',
        'commented_at': 'timestamp', 'comment_date': 'date', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as site,
        cast(comment_id as {{ dbt.type_bigint() }}) as comment_id,
        cast(post_id as {{ dbt.type_bigint() }}) as post_id,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(commented_at as timestamp) as commented_at,
        cast(comment_date as date) as comment_date,
        _loaded_at as loaded_at
    from source
)

select * from renamed
