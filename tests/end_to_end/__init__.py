"""End to end: emulators -> raw -> dbt -> kpi_values, per channel."""
