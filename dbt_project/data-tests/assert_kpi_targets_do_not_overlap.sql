-- Two targets for the same KPI x segment x grain must not cover the same period (the loader
-- rejects this too; the test guards the table).
select a.kpi_id, a.segment, a.grain, a.effective_from, b.effective_from as overlapping_from
from {{ ref('kpi_targets') }} as a
inner join {{ ref('kpi_targets') }} as b
    on a.kpi_id = b.kpi_id
    and a.segment = b.segment
    and a.grain = b.grain
    and a.effective_from < b.effective_from
    and b.effective_from <= coalesce(a.effective_to, cast('9999-12-31' as date))
