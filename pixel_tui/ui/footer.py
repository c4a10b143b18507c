"""The footer: Textual's, showing only the keys that fit whole."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "app.help"
"""The action of the key that lists all the others: the last the footer gives up."""


class KeyFooter(Footer):
    """A compact Footer that leaves out the keys past the width instead of cutting one mid-word.

    Keys come in the order the bindings give them (the focused table's, then help and quit, then the rest), so
    a narrow terminal loses the least important ones; `?` (help), which lists them all, stays the longest.
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._laid_out_for = 0

    def compose(self) -> ComposeResult:
        """Textual's keys, as many as fit beside the palette key."""
        width = self.size.width
        self._laid_out_for = width
        keys = list(super().compose())
        if not width:
            yield from keys
            return
        # Compact widths: key, a space and the description, then one cell of margin; the palette key, docked
        # right, adds a one-cell border and one cell of padding (see pixel.tcss) to its text and margin.
        left = width
        for key in keys:
            if isinstance(key, FooterKey) and key.has_class("-command-palette"):
                left -= 1 + self._width(key) + 1 + 1
        candidates = [key for key in keys if isinstance(key, FooterKey) and not key.has_class("-command-palette")]
        chosen: set[FooterKey] = set()
        # Help first (it lists every other key), then in order; no later, shorter key in a gap, to keep the order.
        for key in sorted(candidates, key=lambda key: key.action != HELP_ACTION):
            if left < self._width(key):
                break
            left -= self._width(key) + 1
            chosen.add(key)
        # Binding groups (not used by the console) are shown as they are.
        yield from (key for key in keys if key in chosen or key not in candidates)

    @staticmethod
    def _width(key: FooterKey) -> int:
        return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0)

    def on_resize(self) -> None:
        """Another width: another choice of keys."""
        if self.size.width != self._laid_out_for:
            self.refresh(recompose=True)
