-- Targets loaded by the Dagster asset raw/kpi_targets. A run that did not load them (a subset
-- materialization, a fresh warehouse) sees no targets instead of failing.
{% set targets_source = source('kpi', 'kpi_targets') %}
{% set loaded = not execute or adapter.get_relation(
    database=targets_source.database,
    schema=targets_source.schema,
    identifier=targets_source.identifier,
) is not none %}

with source as (
    {% if loaded %}
    select * from {{ targets_source }}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as kpi_id,
        cast(null as {{ dbt.type_string() }}) as grain,
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as date) as effective_from,
        cast(null as date) as effective_to,
        cast(null as {{ type_double() }}) as target_value,
        cast(null as {{ type_double() }}) as warn_tolerance,
        cast(null as {{ type_double() }}) as error_tolerance,
        cast(null as {{ dbt.type_string() }}) as tolerance_source,
        cast(null as {{ dbt.type_string() }}) as owner,
        cast(null as {{ dbt.type_string() }}) as note,
        cast(null as {{ dbt.type_bigint() }}) as source_line
    where 1 = 0
    {% endif %}
),

renamed as (
    select
        kpi_id,
        grain,
        segment,
        cast(effective_from as date) as effective_from,
        cast(effective_to as date) as effective_to,
        cast(target_value as {{ type_double() }}) as target_value,
        cast(warn_tolerance as {{ type_double() }}) as warn_tolerance,
        cast(error_tolerance as {{ type_double() }}) as error_tolerance,
        tolerance_source,
        owner,
        note,
        source_line
    from source
)

select * from renamed
