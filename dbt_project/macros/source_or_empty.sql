{#
  A source table, or an empty relation with the given columns when the table does not exist yet.
  A source that is not configured loads nothing and creates no raw table; its staging view must
  still build so the rest of the project does (and its KPIs simply have no rows).
  `columns` maps column name -> SQL type. source() is always called, so lineage is unchanged.
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
