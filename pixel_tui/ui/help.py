"""The help screen: every binding with its current keys (after the user's keymap), what it does and its id."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping

from rich.cells import cell_len, set_cell_size
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from pixel_tui.remediate.catalogue import BY_ID, allowed
from pixel_tui.ui.detail import CLOSE
from pixel_tui.ui.keys import BINDING_GROUPS, CHANGE_RULE, CONSOLE_HELP

NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓ pgup pgdn", "move in the focused table"),
    ("← →", "scroll the focused table sideways"),
    ("tab shift+tab", "containers / workers table"),
    ("enter", "detail of the selected container, worker or rule"),
    ("ctrl+p", "command palette: every action and theme by name"),
)


TWO_COLUMNS_FROM = 96
"""The width from which the keys are laid out in two columns (one line each, about 60 keys fit at 120x35)."""

Entry = tuple[str, str]
"""(keys, what they do or the binding id)."""


def help_content(
    keymap: Mapping[str, str],
    read_only: bool,
    key_display: Callable[[Binding], str],
    width: int = 200,
    ids: bool = False,
    *,
    groups: Collection[str] = CONSOLE_HELP,
) -> Content:
    """The help text for `width` columns: navigation, then each group of bindings named in `groups` (changing
    actions omitted when read-only), one line per key; in two columns from TWO_COLUMNS_FROM. `ids` shows each
    binding's id (what the config's [keys] rebinds) instead of what it does."""
    blocks: list[tuple[str, list[Entry]]] = [("Navigation", list(NAVIGATION))]
    for title, bindings in BINDING_GROUPS:
        if title not in groups:
            continue
        shown = [b for b in bindings if _offered(b, read_only)]
        entries = []
        for binding in shown:
            keys = keymap.get(binding.id or "", binding.key)
            display = " ".join(key_display(dataclasses.replace(binding, key=key.strip())) for key in keys.split(","))
            entries.append((display, (binding.id or "") if ids else binding.tooltip or binding.description))
        if entries:
            blocks.append((title, entries))
    columns = 2 if width >= TWO_COLUMNS_FROM else 1
    column_width = (width - (columns - 1) * 2) // columns
    laid = [_block_lines(title, entries, column_width, dim=ids) for title, entries in blocks]
    footer = [
        Content(""),
        Content.styled("i: what each key does" if ids else "i: the binding ids, to rebind keys", "dim"),
    ]
    if read_only:
        footer.append(Content.styled("READ-ONLY: the keys of changing actions are off.", "bold"))
    if columns == 1:
        return Content("\n").join([line for block in _spaced(laid) for line in block] + footer)
    # The split that makes the longer column shortest; the footer ends the right one.
    split = min(range(1, len(laid) + 1), key=lambda k: max(_height(laid[:k]), _height(laid[k:]) + len(footer)))
    left = [line for block in _spaced(laid[:split]) for line in block]
    right = [line for block in _spaced(laid[split:]) for line in block] + footer
    lines = []
    for index in range(max(len(left), len(right))):
        first = left[index] if index < len(left) else Content("")
        second = right[index] if index < len(right) else Content("")
        lines.append(Content.assemble(first, " " * (column_width - first.cell_length + 2), second))
    return Content("\n").join(lines)


def _offered(binding: Binding, read_only: bool) -> bool:
    """False for a changing action's key when read-only (a remediation or a rule's change)."""
    if binding.id in BY_ID:
        return allowed(binding.id, read_only=read_only)
    return not (read_only and binding.action.startswith(CHANGE_RULE))


def _height(blocks: list[list[Content]]) -> int:
    return sum(len(block) for block in blocks) + max(0, len(blocks) - 1)


def _block_lines(title: str, entries: list[Entry], width: int, *, dim: bool) -> list[Content]:
    """A group: its bold title, then one line per key (keys as wide as this group's widest), cut to `width`."""
    keys_width = max(cell_len(keys) for keys, _ in entries) + 2
    room = max(8, width - 2 - keys_width)
    lines = [Content.styled(title, "bold")]
    for keys, text in entries:
        shown = text if cell_len(text) <= room else set_cell_size(text, room - 1) + "…"
        lines.append(Content.assemble((f"  {keys:<{keys_width}}", "bold"), (shown, "dim" if dim else "")))
    return lines


def _spaced(blocks: list[list[Content]]) -> list[list[Content]]:
    """The blocks with a blank line between two."""
    return [block if index == 0 else [Content(""), *block] for index, block in enumerate(blocks)]


class HelpScreen(ModalScreen[None]):
    """Every key, as the footer cannot show them all."""

    BINDINGS = [
        CLOSE,
        Binding("question_mark", "dismiss", "close", show=False, id="help.close"),
        Binding("i", "toggle_ids", "ids", show=False, id="help.ids"),
    ]

    def __init__(self, build: Callable[..., Content]) -> None:
        super().__init__()
        self.build = build
        self.ids = False
        """Show the binding ids instead of what each key does."""

    def compose(self) -> ComposeResult:
        """A framed, scrollable list."""
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "i ids · esc close"
            with VerticalScroll(id="help-body"):
                yield Static(self.build(200), id="help-text")

    def on_resize(self) -> None:
        """Lay the list out for the room there is."""
        self._lay_out()

    def action_toggle_ids(self) -> None:
        """Binding ids instead of descriptions, or back."""
        self.ids = not self.ids
        self._lay_out()

    def _lay_out(self) -> None:
        body = self.query_one("#help-body")
        self.query_one("#help-text", Static).update(self.build(body.scrollable_content_region.width, ids=self.ids))
