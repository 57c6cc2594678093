"""This PC: the settings file, the keyring, start at login, and redaction of secrets in logs."""
