{#
  Content pages are URL paths under CONTENT_PATH_PREFIXES (comma list, default /blog/).
  url_path() makes GA4 pagePath / landingPage, WordPress permalinks, cost-file URLs and linked URLs
  comparable: scheme and host, query string and fragment removed, trailing slash dropped.
#}
{% macro url_path(expr) -%}
    coalesce(
        nullif(rtrim(split_part(split_part(regexp_replace({{ expr }}, '^[A-Za-z][A-Za-z0-9+.-]*://[^/]+', ''), '?', 1), '#', 1), '/'), ''),
        '/'
    )
{%- endmacro %}

{% macro content_path_prefixes() -%}
    {{ return(env_var('CONTENT_PATH_PREFIXES', '/blog/').split(',') | map('trim') | reject('equalto', '') | list) }}
{%- endmacro %}

{% macro is_content_path(path) -%}
    ({% for prefix in content_path_prefixes() %}starts_with({{ path }}, '{{ prefix | replace("'", "''") }}'){{ " or " if not loop.last }}{% endfor %})
{%- endmacro %}
