"""The team's relay: receiver and outbox, the broker it runs, the agents' API."""
