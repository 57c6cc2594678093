"""Team mode: the protocol both sides share, the agent's link, and the office's relay."""
