"""A rule's parts as the grammar writes them and as a person reads them (the rules screen, the demo's book)."""

from __future__ import annotations

from pixel_tui.rules.model import Budget, Scope


def window_text(seconds: float) -> str:
    """A budget's window as the grammar writes it: `30m`, `1h`, `2d`, `90s`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def budget_text(budget: Budget) -> str:
    """A budget as the grammar writes it: `3/30m`."""
    return f"{budget.count}/{window_text(budget.window_s)}"


def budget_words(budget: Budget) -> str:
    """`3 actions per target in 30m`."""
    return f"{budget.count} action{'' if budget.count == 1 else 's'} per target in {window_text(budget.window_s)}"


def scope_text(scope: Scope) -> str:
    """`labels pixel.role=worker, name web-*`, or `every target of its kind`."""
    parts = []
    if scope.labels:
        parts.append("labels " + ", ".join(f"{key}={value}" for key, value in scope.labels))
    if scope.name is not None:
        parts.append(f"name {scope.name}")
    return "; ".join(parts) or "every target of its kind"
