-- Every source's daily KPI components in one relation. A new source adds one union branch.
select * from {{ ref('int_kpi_daily__web') }}
union all
select * from {{ ref('int_kpi_daily__paid_ads') }}
