"""The machine-to-machine API."""
