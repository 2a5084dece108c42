with source as (
    {{ source_or_empty('meta_graph', 'meta_graph__instagram_insights', {
        '_account_id': 'varchar', 'date': 'date', 'views': 'bigint', 'reach': 'bigint',
        'total_interactions': 'bigint', 'website_clicks': 'bigint', 'follower_count': 'bigint',
        'followers_end_of_day': 'bigint', '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        'instagram' as platform,
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(coalesce(views, 0) as {{ dbt.type_bigint() }}) as impressions,
        cast(reach as {{ dbt.type_bigint() }}) as reach,
        cast(coalesce(total_interactions, 0) as {{ dbt.type_bigint() }}) as engagements,
        cast(coalesce(website_clicks, 0) as {{ dbt.type_bigint() }}) as link_clicks,
        cast(followers_end_of_day as {{ dbt.type_bigint() }}) as followers,
        cast(case when followers_end_of_day is not null then follower_count end
            as {{ dbt.type_bigint() }}) as follower_gain,
        _loaded_at as loaded_at
    from source
)

select * from renamed
