{# The currency every money KPI is reported in: KPI_REPORTING_CURRENCY (default USD). #}
{% macro reporting_currency() -%}
    '{{ env_var("KPI_REPORTING_CURRENCY", "USD") | upper }}'
{%- endmacro %}

{#
  An amount converted to the reporting currency with the rate of its day (from
  int_fx_rates_daily joined on currency and day). NULL when the rate is missing: the
  assert_fx_rate_exists_for_money test then fails naming the currency and day. Zero stays zero.
#}
{% macro to_reporting_currency(amount, currency, rate) -%}
    case
        when {{ amount }} = 0 then 0
        when upper({{ currency }}) = {{ reporting_currency() }} then {{ amount }}
        else {{ amount }} * {{ rate }}
    end
{%- endmacro %}
