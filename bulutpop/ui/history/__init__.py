"""The call history: its Qt model and its window."""
