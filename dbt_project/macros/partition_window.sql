{#
  The run's window, inclusive ISO dates: --vars '{"min_date": "...", "max_date": "..."}' when given
  (unit tests, a manual `dbt build --vars ...`), else KPI_WINDOW_MIN_DATE / KPI_WINDOW_MAX_DATE,
  which the Dagster step sets. The step uses the environment, not --vars, and the window is read
  only when dbt executes (`execute`), not while it parses: dbt re-parses the whole project when
  --vars change, and re-parses the files that read an environment variable at parse time when it
  changes (docs/performance.md). Without either (a manual `dbt build`) every date is in the window.
#}
{% macro window_date(name) -%}
    {% if not execute %}{{ return(none) }}{% endif %}
    {{ return(var(name) or env_var('KPI_WINDOW_' ~ name | upper, '') or none) }}
{%- endmacro %}

{% macro window_bound(name) -%}
    cast('{{ window_date(name) }}' as date)
{%- endmacro %}

{% macro has_window() -%}
    {{ return(window_date('min_date') is not none and window_date('max_date') is not none) }}
{%- endmacro %}

{# Rows of a daily table that belong to the run's window. #}
{% macro in_partition_window(column) -%}
    {% if has_window() -%}
        {{ column }} between {{ window_bound('min_date') }} and {{ window_bound('max_date') }}
    {%- else -%}
        1 = 1
    {%- endif %}
{%- endmacro %}

{% macro period_start(grain, day) -%}
    case {{ grain }}
        when 'day' then cast({{ day }} as date)
        when 'week' then cast({{ dbt.date_trunc('week', day) }} as date)
        when 'month' then cast({{ dbt.date_trunc('month', day) }} as date)
    end
{%- endmacro %}

{# Last day (inclusive) of the period that starts on period_start. #}
{% macro period_end(grain, start) -%}
    case {{ grain }}
        when 'day' then cast({{ start }} as date)
        when 'week' then cast({{ dbt.dateadd('day', 6, start) }} as date)
        when 'month' then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, start)) }} as date)
    end
{%- endmacro %}

{#
  Daily rows needed to recompute every day, ISO week and month that overlaps the window:
  from the earlier of the window's week start and month start to the later of its week end and
  month end.
#}
{% macro in_kpi_period_window(column) -%}
    {% if has_window() -%}
        {% set lo = window_bound('min_date') %}
        {% set hi = window_bound('max_date') %}
        {{ column }} >= least(
            cast({{ dbt.date_trunc('week', lo) }} as date),
            cast({{ dbt.date_trunc('month', lo) }} as date)
        )
        and {{ column }} <= greatest(
            cast({{ dbt.dateadd('day', 6, dbt.date_trunc('week', hi)) }} as date),
            cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, dbt.date_trunc('month', hi))) }} as date)
        )
    {%- else -%}
        1 = 1
    {%- endif %}
{%- endmacro %}

{# Periods [start_col, end_col] that overlap the window. #}
{% macro period_overlaps_window(start_col, end_col) -%}
    {% if has_window() -%}
        {{ start_col }} <= {{ window_bound('max_date') }} and {{ end_col }} >= {{ window_bound('min_date') }}
    {%- else -%}
        1 = 1
    {%- endif %}
{%- endmacro %}

{# pre_hook for incremental models: delete the rows the run is about to rebuild. #}
{% macro delete_window(condition) -%}
    {% if is_incremental() %}delete from {{ this }} where {{ condition }}{% endif %}
{%- endmacro %}
