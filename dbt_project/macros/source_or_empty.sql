{#
  A query over a source table, or - while its loader has never written it (source not
  configured, or a run that selected other assets) - an empty relation with the source's columns,
  so `dbt build` works whatever subset of sources a company uses. Use it as a CTE body:
  `with source as ({{ source_or_empty('ga4', 'ga4__pages') }})`. The empty relation's columns come
  from `columns` (name -> SQL type) when given, else from the `data_type`s in the source's yml.
  At parse time it is the plain source(), so lineage is unchanged.
#}
{% macro source_or_empty(source_name, table_name, columns=none) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {%- if columns is none -%}
            {%- set node = graph.sources.values()
                | selectattr('source_name', 'equalto', source_name)
                | selectattr('name', 'equalto', table_name)
                | first -%}
            {%- set columns = {} -%}
            {%- for name, column in node.columns.items() -%}
                {%- do columns.update({name: column.data_type}) -%}
            {%- endfor -%}
        {%- endif -%}
        select
        {%- for name, type in columns.items() %}
            cast(null as {{ sql_type(type) }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
