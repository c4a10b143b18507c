"""The fleet view's data: many hosts' `pixel-tui export` metrics, read back from Prometheus. Headless."""
