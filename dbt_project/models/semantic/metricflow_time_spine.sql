{{ config(materialized='table', schema='semantic') }}
-- MetricFlow's day time spine (models/semantic/_time_spine.yml): one row per day, 2020..2035.
-- MetricFlow joins it for weeks, months, quarters and years of `metric_time`.
select cast(date_day as date) as date_day
from ({{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2036-01-01' as date)") }}) as spine
