-- Sessions and lead events side by side per property x day x channel group.
with traffic as (
    select * from {{ ref('stg_ga4__traffic') }}
),

leads as (
    select * from {{ ref('stg_ga4__leads') }}
),

joined as (
    select
        coalesce(t.property_id, l.property_id) as property_id,
        coalesce(t.date_day, l.date_day) as date_day,
        coalesce(t.channel_group, l.channel_group) as channel_group,
        coalesce(t.sessions, 0) as sessions,
        coalesce(t.engaged_sessions, 0) as engaged_sessions,
        coalesce(t.screen_page_views, 0) as screen_page_views,
        coalesce(t.user_engagement_seconds, 0) as user_engagement_seconds,
        coalesce(t.key_events, 0) as key_events,
        coalesce(l.leads, 0) as leads,
        coalesce(t.purchase_revenue, 0) as purchase_revenue,
        coalesce(t.new_users, 0) as new_users,
        t.currency_code,
        t.time_zone,
        coalesce(t.data_loss_from_other_row or t.subject_to_thresholding or t.sampled, false)
            as has_data_quality_flag
    from traffic as t
    full outer join leads as l
        on t.property_id = l.property_id
        and t.date_day = l.date_day
        and t.channel_group = l.channel_group
)

select * from joined
