{{ config(materialized="table") }}
-- Each mention matched to the brand (SOV_BRAND) and competitors (SOV_COMPETITORS), whole words,
-- ignoring case. The export's matched-brand column decides when it names one of them; otherwise
-- the mention text is searched. A mention naming two of them counts for both.
{%- set brand = env_var('SOV_BRAND', '') | trim %}
{%- set competitors = env_var('SOV_COMPETITORS', '').split(',') | map('trim') | reject('equalto', '') | list %}
with mentions as (
    select * from {{ ref('stg_mentions__mentions') }}
),

entities as (
    {%- if brand %}
    select '{{ brand | replace("'", "''") }}' as entity, true as is_brand
    {%- for competitor in competitors %}
    union all
    select '{{ competitor | replace("'", "''") }}', false
    {%- endfor %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as entity, cast(null as boolean) as is_brand
    where false
    {%- endif %}
),

candidates as (
    select
        m.mention_key,
        m.mention_date,
        m.source,
        e.entity,
        e.is_brand,
        {{ contains_word("coalesce(m.matched_brand, '')", 'e.entity') }} as in_brand_column,
        {{ contains_word("coalesce(m.mention_text, '')", 'e.entity') }} as in_text
    from mentions as m
    cross join entities as e
),

flagged as (
    select
        *,
        bool_or(in_brand_column) over (partition by mention_key) as brand_column_matched
    from candidates
)

select mention_key, mention_date, source, entity, is_brand
from flagged
where (brand_column_matched and in_brand_column) or (not brand_column_matched and in_text)
