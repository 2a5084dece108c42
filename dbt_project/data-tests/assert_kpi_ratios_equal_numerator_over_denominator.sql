-- Every ratio / weighted KPI value is exactly its stored numerator over its stored denominator,
-- at every grain, and NULL (never 0, never infinite) when the denominator is 0.
select kpi_id, grain, period_start, segment, value, numerator, denominator
from {{ ref('kpi_values') }}
where aggregation in ('ratio', 'weighted_avg')
  and (
    (denominator = 0 and value is not null)
    or (denominator <> 0 and abs(value - numerator / denominator) > 1e-12 * greatest(abs(value), 1))
  )
