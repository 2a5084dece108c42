{#
  A source table, or an empty relation with the given columns when the table does not exist yet
  (a source that was never configured or never loaded): its models build empty instead of failing
  the whole `dbt build`. `columns` maps column name -> SQL type. The source() call always runs, so
  lineage (and the Dagster dependency on the raw asset) is the same either way.
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
    {%- else -%}
        {%- set found = relation -%}
    {%- endif -%}
    {%- if found is not none -%}
        {{ relation }}
    {%- else -%}
        (
            select
            {%- for name, type in columns.items() %}
                cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where 1 = 0
        )
    {%- endif -%}
{%- endmacro %}
