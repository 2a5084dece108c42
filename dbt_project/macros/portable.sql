{#
  SQL that differs between warehouses, dispatched per adapter (default__ = DuckDB's dialect, which
  Snowflake, BigQuery and Databricks mostly share; postgres__ = PostgreSQL). Models call these
  instead of a dialect's own syntax, so they run unchanged on DuckDB and PostgreSQL.
#}

{# One row per `partition_by` (the first by `order_by`), every column kept: a CTE body. #}
{% macro first_row_per(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('first_row_per')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__first_row_per(relation, partition_by, order_by) -%}
    select * from {{ relation }}
    qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1
{%- endmacro %}

{% macro postgres__first_row_per(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by }}) * from {{ relation }}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}

{# The median (interpolated between the two middle values, like percentile_cont(0.5)). #}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro postgres__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{# true when `text` contains `word` (a literal, not a pattern) as a whole word, ignoring case. #}
{% macro contains_word(text, word) -%}
    {{ return(adapter.dispatch('contains_word')(text, word)) }}
{%- endmacro %}

{% macro default__contains_word(text, word) -%}
    regexp_matches({{ text }}, '(?i)\b' || regexp_escape({{ word }}) || '\b')
{%- endmacro %}

{% macro postgres__contains_word(text, word) -%}
    ({{ text }} ~* ('\y' || regexp_replace({{ word }}, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g') || '\y'))
{%- endmacro %}

{#
  A column type named in a source yml or a source_or_empty() column map ('double', 'varchar',
  'decimal(18, 2)', ...) as this warehouse spells it: only `double` differs (type_double()).
#}
{% macro sql_type(name) -%}
    {{ type_double() if name | trim | lower == 'double' else name }}
{%- endmacro %}

{# The value of `expr` on the first / last row of the group by `order_by` (NULLs included). #}
{% macro first_by(expr, order_by) -%}
    {{ return(adapter.dispatch('first_by')(expr, order_by)) }}
{%- endmacro %}

{% macro default__first_by(expr, order_by) -%}
    first({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro postgres__first_by(expr, order_by) -%}
    (array_agg({{ expr }} order by {{ order_by }}))[1]
{%- endmacro %}

{% macro last_by(expr, order_by) -%}
    {{ return(adapter.dispatch('last_by')(expr, order_by)) }}
{%- endmacro %}

{% macro default__last_by(expr, order_by) -%}
    last({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro postgres__last_by(expr, order_by) -%}
    (array_agg({{ expr }} order by {{ order_by }}))[count(*)]
{%- endmacro %}
