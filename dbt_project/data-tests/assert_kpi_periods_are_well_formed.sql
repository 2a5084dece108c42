-- A period starts where its grain starts (Monday for ISO weeks, the 1st for months) and ends on
-- its last day (inclusive).
select kpi_id, grain, period_start, period_end
from {{ ref('kpi_values') }}
where period_start <> {{ period_start('grain', 'period_start') }}
   or period_end <> {{ period_end('grain', 'period_start') }}
