"""The missed-calls list: its Qt model and its window."""
