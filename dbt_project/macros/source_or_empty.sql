{#
  A raw source table, or an empty relation with the given columns while its ingestion asset has
  not created the table yet (the source is not configured, or the run selected other assets).
  `columns` maps column name -> SQL type. At parse time it is the plain source() (lineage).
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier) if execute else relation -%}
    {%- if found is none -%}
        (select {% for name, type in columns.items() %}cast(null as {{ type }}) as {{ name }}{{ ", " if not loop.last }}{% endfor %} where false)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
