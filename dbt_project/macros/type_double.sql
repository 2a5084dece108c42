{#
  An 8-byte float. type_double() renders `float`, which DuckDB reads as 4-byte REAL: rates
  would lose digits. Adapter-dispatched so another warehouse can name it its own way.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
