{# numerator / denominator as a float; NULL when the denominator is NULL or 0 (never 0, never inf). #}
{% macro safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
    end
{%- endmacro %}
