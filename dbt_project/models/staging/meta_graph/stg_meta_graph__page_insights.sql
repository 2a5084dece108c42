with source as (
    {{ source_or_empty('meta_graph', 'meta_graph__page_insights', {
        '_account_id': 'varchar', 'date': 'date', 'page_media_view': 'bigint',
        'page_total_media_view_unique': 'bigint', 'page_post_engagements': 'bigint',
        'page_follows': 'bigint', 'page_follows_gain': 'bigint', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        'facebook' as platform,
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(coalesce(page_media_view, 0) as {{ dbt.type_bigint() }}) as impressions,
        cast(page_total_media_view_unique as {{ dbt.type_bigint() }}) as reach,
        cast(coalesce(page_post_engagements, 0) as {{ dbt.type_bigint() }}) as engagements,
        cast(null as {{ dbt.type_bigint() }}) as link_clicks,
        cast(page_follows as {{ dbt.type_bigint() }}) as followers,
        cast(page_follows_gain as {{ dbt.type_bigint() }}) as follower_gain,
        _loaded_at as loaded_at
    from source
)

select * from renamed
