"""The PBX: its API client, the webhook receiver, catch-up from its history, the phonebook,
dialling and recordings."""
