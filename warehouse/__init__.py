"""The DuckDB warehouse: DDL derived from the table declarations, views as .sql files, connections, the loader."""
