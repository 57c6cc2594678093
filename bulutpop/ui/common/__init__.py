"""What the Qt shell's windows share: list actions, formatting, background tasks."""
