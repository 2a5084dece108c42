"""The KPI rules (pipelines/kpi)."""
