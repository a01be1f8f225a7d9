"""Pure transforms: text in, Polars frames out. No I/O, no Prefect, no DuckDB here."""
