{#
  `select * from` a source table, or - while its loader has never written it (source not
  configured, or not materialized yet) - an empty relation with the columns and types the
  source's yml declares. So `dbt build` works whatever subset of sources a company uses.
#}
{% macro source_or_empty(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        select
        {%- for name, column in node.columns.items() %}
            cast(null as {{ column.data_type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
