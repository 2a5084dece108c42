with source as (
    {{ source_or_empty('pagespeed', 'pagespeed__runs') }}
),

renamed as (
    select
        cast(_partition_date as date) as date_day,
        cast(url as {{ dbt.type_string() }}) as url,
        cast(strategy as {{ dbt.type_string() }}) as strategy,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(error as {{ dbt.type_string() }}) as error,
        cast(performance_score as {{ type_double() }}) as performance_score,
        cast(lcp_ms as {{ type_double() }}) as lcp_ms,
        cast(fcp_ms as {{ type_double() }}) as fcp_ms,
        cast(tbt_ms as {{ type_double() }}) as tbt_ms,
        cast(cls as {{ type_double() }}) as cls,
        cast(field_lcp_ms as {{ type_double() }}) as field_lcp_ms,
        cast(field_fcp_ms as {{ type_double() }}) as field_fcp_ms,
        cast(field_inp_ms as {{ type_double() }}) as field_inp_ms,
        cast(field_cls as {{ type_double() }}) as field_cls,
        cast(field_category as {{ dbt.type_string() }}) as field_category,
        cast(analysis_utc_timestamp as {{ dbt.type_timestamp() }}) as analysis_utc_timestamp,
        _loaded_at as loaded_at
    from source
)

select * from renamed
