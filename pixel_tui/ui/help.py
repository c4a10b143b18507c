"""The help screen: every binding with its current keys (after the user's keymap), what it does and its id."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from pixel_tui.remediate.catalogue import BY_ID, allowed
from pixel_tui.ui.detail import CLOSE
from pixel_tui.ui.keys import BINDING_GROUPS

NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓ pgup pgdn", "move in the focused table"),
    ("← →", "scroll the focused table sideways"),
    ("tab shift+tab", "containers / workers table"),
    ("enter", "detail of the selected container or worker"),
    ("ctrl+p", "command palette: every action and theme by name"),
)


def help_content(
    keymap: Mapping[str, str], read_only: bool, key_display: Callable[[Binding], str], width: int = 200
) -> Content:
    """The help text for `width` columns: navigation, then each group of bindings (changing actions omitted when
    read-only); each binding's id follows its description, or goes under it when the line would not fit."""
    lines: list[Content] = [Content.styled("Navigation", "bold")]
    lines += [Content.assemble((f"  {keys:<16}", "bold"), description) for keys, description in NAVIGATION]
    groups = [
        (title, [b for b in bindings if b.id not in BY_ID or allowed(b.id, read_only=read_only)])
        for title, bindings in BINDING_GROUPS
    ]
    described = max(len(b.tooltip or b.description) for _, bindings in groups for b in bindings) + 2
    one_line = 2 + 16 + described + max(len(b.id or "") for _, bindings in groups for b in bindings) <= width
    for title, shown in groups:
        if not shown:
            continue
        lines += [Content(""), Content.styled(title, "bold")]
        for binding in shown:
            keys = keymap.get(binding.id or "", binding.key)
            display = " ".join(key_display(dataclasses.replace(binding, key=key.strip())) for key in keys.split(","))
            description = binding.tooltip or binding.description
            if one_line:
                lines.append(
                    Content.assemble(
                        (f"  {display:<16}", "bold"), description.ljust(described), (binding.id or "", "dim")
                    )
                )
            else:
                lines.append(Content.assemble((f"  {display:<16}", "bold"), description))
                lines.append(Content.styled(f"  {'':<16}{binding.id or ''}", "dim"))
    if read_only:
        lines += [
            Content(""),
            Content.styled("READ-ONLY: the keys of changing actions (restart, kill, reap, ...) are off.", "bold"),
        ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Every key, as the footer cannot show them all."""

    BINDINGS = [CLOSE, Binding("question_mark", "dismiss", "close", show=False, id="help.close")]

    def __init__(self, build: Callable[[int], Content]) -> None:
        super().__init__()
        self.build = build

    def compose(self) -> ComposeResult:
        """A framed, scrollable list."""
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "esc close · rebind by id in the config's \\[keys]"
            with VerticalScroll(id="help-body"):
                yield Static(self.build(200), id="help-text")

    def on_resize(self) -> None:
        """Lay the list out for the room there is."""
        body = self.query_one("#help-body")
        self.query_one("#help-text", Static).update(self.build(body.scrollable_content_region.width))
