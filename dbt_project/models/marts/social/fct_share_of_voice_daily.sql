-- Mentions per day x listening source x entity (brand or competitor). Rebuilt whole on every run:
-- export files can bring mentions of any date.
select
    mention_date as date_day,
    source,
    entity,
    is_brand,
    cast(count(*) as {{ dbt.type_bigint() }}) as mentions
from {{ ref('int_mentions_classified') }}
group by mention_date, source, entity, is_brand
