"""The settings dialog and first-run wizard: the dialog, one module per tab, shared parts."""
