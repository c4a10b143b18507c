"""Remediation: the action catalogue and the read-only rule, plans, validation, the executor, its backends, the audit.

Nothing here imports Textual; the console's dialogs live in `pixel_tui.ui` and call the executor.
Importing this package loads nothing heavy: the backends (docker, the host) are imported where used.
"""
