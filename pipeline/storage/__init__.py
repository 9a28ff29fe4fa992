"""The DuckDB file: opening it, numbered migrations, writing calls."""
