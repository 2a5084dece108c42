"""The KPI rules: catalog, targets, pacing rules, drift, alerts, explanations (no Dagster)."""
