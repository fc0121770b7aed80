"""The store: all SQL lives in this package (SQLite by default, PostgreSQL by URL)."""
