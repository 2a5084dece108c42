-- Every source's daily KPI components in one relation. A new source adds one union branch.
select * from {{ ref('int_kpi_daily__web') }}
union all
select * from {{ ref('int_kpi_daily__email') }}
union all
select * from {{ ref('int_kpi_daily__seo') }}
union all
select * from {{ ref('int_kpi_daily__social') }}
union all
select * from {{ ref('int_kpi_daily__content') }}
union all
select * from {{ ref('int_kpi_daily__sales') }}
union all
select * from {{ ref('int_kpi_daily__crm') }}
union all
select * from {{ ref('int_kpi_daily__customer_service') }}
union all
select * from {{ ref('int_kpi_daily__paid_ads') }}
