"""Warehouse I/O (pipelines/warehouse): raw loaders on DuckDB and PostgreSQL."""
