{#
  Lifecycle stages that make a new contact a lead: HUBSPOT_LEAD_STAGES (comma list). The default
  counts every contact created as a lead or further along (a contact that became a customer was a
  new lead when created) and leaves out subscribers and "other" (imports, partners).
#}
{% macro hubspot_lead_stages() -%}
    {%- set raw = env_var('HUBSPOT_LEAD_STAGES', 'lead,marketingqualifiedlead,salesqualifiedlead,opportunity,customer,evangelist') -%}
    ({%- for stage in raw.split(',') if stage | trim -%}
        '{{ stage | trim | lower | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%})
{%- endmacro %}
