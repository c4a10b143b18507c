"""Collection: host figures, the Docker engine, workers and the orchestrator's ledger, into snapshots."""

from pixel_tui.collect.collector import Collector

__all__ = ["Collector"]
