"""The trivial pipeline floor (``benchmarks.floor.definitions``) and its dbt project."""

from pathlib import Path

DBT_DIR = Path(__file__).parent / "dbt_project"
