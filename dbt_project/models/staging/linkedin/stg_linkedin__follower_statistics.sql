with source as (
    {{ source_or_empty('linkedin', 'linkedin__follower_statistics', {
        '_account_id': 'varchar', 'date': 'date', 'organic_follower_gain': 'bigint',
        'paid_follower_gain': 'bigint', 'followers_end_of_day': 'bigint', 'network_size': 'bigint',
        '_loaded_at': 'timestamp'}) }}
),

renamed as (
    select
        cast(_account_id as {{ dbt.type_string() }}) as account_id,
        cast(date as date) as date_day,
        cast(organic_follower_gain as {{ dbt.type_bigint() }}) as organic_follower_gain,
        cast(paid_follower_gain as {{ dbt.type_bigint() }}) as paid_follower_gain,
        cast(followers_end_of_day as {{ dbt.type_bigint() }}) as followers,
        cast(
            case when followers_end_of_day is not null
                then coalesce(organic_follower_gain, 0) + coalesce(paid_follower_gain, 0) end
            as {{ dbt.type_bigint() }}
        ) as follower_gain,
        _loaded_at as loaded_at
    from source
)

select * from renamed
