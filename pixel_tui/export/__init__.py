"""Prometheus: what pixel-tui judges, as metrics on a scrape (`pixel-tui export`) or in a textfile.

Only what pixel-tui alone knows (levels, workers and phantoms, the ledger, the lock, remediation), never
what node_exporter, cAdvisor or dockerd export already. Headless: no Textual here.
"""
