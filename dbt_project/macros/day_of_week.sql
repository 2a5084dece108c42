{# Day of the week, 0 = Monday .. 6 = Sunday, the same on every warehouse (no date_part dialects). #}
{% macro day_of_week(day) -%}
    mod({{ dbt.datediff("cast('2000-01-03' as date)", day, 'day') }}, 7)
{%- endmacro %}
