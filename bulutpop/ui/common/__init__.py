"""What the Qt shell's windows share: widgets, error text, list actions, formatting, tasks."""
