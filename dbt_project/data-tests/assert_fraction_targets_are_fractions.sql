-- Percent KPIs are stored as fractions: a target of 5.2 (meaning 5.2%) would never be met.
select kpi_id, target_value
from {{ ref('kpi_targets') }}
where unit = 'fraction' and (target_value <= 0 or target_value > 1)
