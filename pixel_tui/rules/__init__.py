"""Autoheal rules as data: the grammar, the built-in rules, the ladder from proposal to enabled (docs/rules.md)."""
