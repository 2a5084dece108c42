"""Small shared helpers: settings, partitions, progress lines, tool paths, secret files, the Dagster
instance, the dbt command and its start-up (serializers)."""
