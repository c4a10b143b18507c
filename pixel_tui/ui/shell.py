"""The console's side of `e`, a shell in the selected container: what may open one, and lending the terminal.

The session itself (finding the shell, `docker exec -it`, its audit) lives in `pixel_tui.remediate.shell`
and the executor; here the console says at once why no shell opens (nothing selected, a ghost task, a
stopped container, no docker CLI), and suspends itself while the shell has the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App, SuspendNotSupported

from pixel_tui.remediate.model import Refused
from pixel_tui.remediate.shell import NO_CLI, NO_SESSIONS, ShellSessions

if TYPE_CHECKING:
    from pixel_tui.model import Snapshot
    from pixel_tui.ui.remediation import Selected

SHELL = "container.shell"
"""The catalogue id of the shell."""


def shell_target(
    selection: Selected | None, snapshot: Snapshot, backend: ShellSessions | None
) -> tuple[str | None, str | None]:
    """The container id a shell would open in, and None; or None and why no shell can open there."""
    if selection is None:
        return None, "select a running container first"
    if selection.container_id is None:
        return None, f"{selection.name} has no container: there is nothing to open a shell in"
    container = next((c for c in snapshot.containers if c.id == selection.container_id), None)
    if container is None:
        return None, f"{selection.name} is gone"
    if not container.running:
        return container.id, f"{container.name} is {container.state}: a shell opens only in a running container"
    if backend is None:
        return container.id, NO_SESSIONS
    if backend.cli() is None:
        return container.id, NO_CLI
    return container.id, None


def lend_terminal(app: App[Any], call: Callable[[], int]) -> int:
    """From the executor's thread: suspend the console, run `call` on the terminal, resume; `call`'s result.

    The console's loop waits meanwhile (nothing is drawn or read while the shell has the terminal); it redraws
    when the shell exits. Refused, before anything ran, when this terminal cannot be lent (a headless test)."""

    def suspended() -> int:
        try:
            with app.suspend():
                return call()
        except SuspendNotSupported as error:
            raise Refused(f"this terminal cannot be lent to a shell ({error})") from None

    return app.call_from_thread(suspended)
