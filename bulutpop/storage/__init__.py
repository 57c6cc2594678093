"""The SQLite store: one file, one writer, the tables of calls, names and team mode."""
