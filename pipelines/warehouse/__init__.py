"""Warehouse I/O: connections (DuckDB or PostgreSQL) and the idempotent raw loaders."""
