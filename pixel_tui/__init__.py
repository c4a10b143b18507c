"""pixel-tui: a terminal console for a Docker host and its short-lived worker containers."""

__version__ = "0.1.0"
