"""CI and benchmark tooling: a throwaway PostgreSQL server, the DuckDB/PostgreSQL comparison."""
