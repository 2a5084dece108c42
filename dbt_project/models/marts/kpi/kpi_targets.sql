-- One row per target of config/targets.yml: the periods it covers (effective_from .. effective_to,
-- NULL: open-ended), the value and the resolved tolerances, with the KPI's unit and direction.
with targets as (
    select * from {{ ref('stg_kpi__targets') }}
),

catalog as (
    select * from {{ ref('stg_kpi__catalog') }}
)

select
    t.kpi_id,
    k.channel,
    t.grain,
    t.segment,
    t.effective_from,
    t.effective_to,
    t.target_value,
    t.warn_tolerance,
    t.error_tolerance,
    t.tolerance_source,
    k.unit,
    k.direction,
    k.aggregation,
    t.owner,
    t.note,
    t.source_line
from targets as t
inner join catalog as k on t.kpi_id = k.kpi_id
