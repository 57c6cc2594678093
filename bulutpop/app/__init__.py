"""The core assembled for one process, and the runtime every mode (serve, relay, tray) runs."""
