{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- PageSpeed Insights per day x URL x strategy: lab values (the KPI uses lab LCP, measured the same
-- way every day) and CrUX field values when the URL has its own. Failed runs stay, with NULLs.
select
    date_day,
    url,
    strategy,
    status,
    error,
    performance_score,
    lcp_ms,
    lcp_ms / 1000.0 as lcp_seconds,
    fcp_ms,
    tbt_ms,
    cls,
    field_lcp_ms,
    field_fcp_ms,
    field_inp_ms,
    field_cls,
    field_category,
    analysis_utc_timestamp
from {{ ref('stg_pagespeed__runs') }}
where {{ in_partition_window('date_day') }}
