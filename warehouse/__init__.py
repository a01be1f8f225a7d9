"""The DuckDB warehouse: DDL and views as .sql files, connections, and the loader."""
