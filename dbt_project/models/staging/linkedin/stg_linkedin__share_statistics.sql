with source as (
    {{ source_or_empty('linkedin', 'linkedin__share_statistics', {
        '_account_id': 'varchar', 'date': 'date', 'impression_count': 'bigint',
        'unique_impressions_count': 'bigint', 'click_count': 'bigint', 'like_count': 'bigint',
        'comment_count': 'bigint', 'share_count': 'bigint', 'engagement': 'double',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        'linkedin' as platform,
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(coalesce(impression_count, 0) as {{ dbt.type_bigint() }}) as impressions,
        cast(unique_impressions_count as {{ dbt.type_bigint() }}) as reach,
        cast(
            coalesce(click_count, 0) + coalesce(like_count, 0) + coalesce(comment_count, 0)
            + coalesce(share_count, 0) as {{ dbt.type_bigint() }}
        ) as engagements,
        cast(coalesce(click_count, 0) as {{ dbt.type_bigint() }}) as link_clicks,
        cast(engagement as {{ type_double() }}) as engagement_rate_reported,
        _loaded_at as loaded_at
    from source
)

select * from renamed
