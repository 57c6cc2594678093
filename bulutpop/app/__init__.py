"""The core assembled for one process, the runtime every mode (serve, relay, tray) runs, and
the guard every server of ours stands behind."""
