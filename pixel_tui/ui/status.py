"""The status line: overall level, hostname, Docker host, last good collection, and STALE, PAUSED, READ-ONLY marks."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from pixel_tui.model import Snapshot
from pixel_tui.ui.text import LEVEL_CLASSES, level_class, level_label


def clock(moment: datetime | None) -> str:
    """'14:14:00Z' (UTC, as every time the console shows), '--:--:--' when never."""
    return "--:--:--" if moment is None else moment.strftime("%H:%M:%SZ")


class StatusBar(Horizontal):
    """One line at the top; each part is a label that is only touched when its text changes."""

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False)
    """The latest snapshot."""
    last_good: reactive[datetime | None] = reactive(None, repaint=False)
    """When the engine last answered."""
    stale: reactive[str | None] = reactive(None, repaint=False)
    """Why the data on screen is not current, or None."""
    paused: reactive[bool] = reactive(False, repaint=False)
    """True while the refresh is paused."""
    acting: reactive[str | None] = reactive(None, repaint=False)
    """What a running remediation is doing, None when none runs."""
    autoheal_text: reactive[str | None] = reactive(None, repaint=False)
    """Autoheal's state in words, None when there is no autoheal."""
    history_status: reactive[str | None] = reactive(None, repaint=False)
    """"history unavailable: <why>", or None while the history works."""

    def __init__(self, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_only = read_only
        self._shown: dict[str, tuple[str, str]] = {}
        self._labels: dict[str, Label] = {}

    def compose(self) -> ComposeResult:
        """The parts, left to right: the engine part takes what room is left."""
        # Badges before the host: when 80 columns are not enough, the time at the right end goes first.
        # Hostname, engine errors and stale reasons come from the host: never read as markup.
        yield Label("pixel-tui", id="brand", markup=False)
        yield Label("… collecting", id="overall", classes="badge", markup=False)
        yield Label("READ-ONLY", id="mode", classes="badge", markup=False)
        yield Label("PAUSED", id="paused", classes="badge", markup=False)
        yield Label("", id="stale", classes="badge", markup=False)
        yield Label("", id="acting", classes="badge", markup=False)
        yield Label("", id="autoheal", classes="badge", markup=False)
        yield Label("", id="history-status", classes="badge", markup=False)
        yield Label("", id="host", markup=False)
        yield Label("", id="engine", markup=False)
        yield Label("", id="updated", markup=False)

    def on_mount(self) -> None:
        """Show what is bound already."""
        # Found once: _update runs two or three times a cycle, and a query walks the children each time.
        self._labels = {label.id: label for label in self.query(Label) if label.id}
        self._labels["mode"].display = self.read_only
        self._update()

    def watch_snapshot(self) -> None:
        """New data: update the parts that changed."""
        self._update()

    def watch_last_good(self) -> None:
        """The engine answered (or not): update the time."""
        self._update()

    def watch_stale(self) -> None:
        """Staleness changed: show or hide the mark."""
        self._update()

    def watch_paused(self) -> None:
        """Paused or resumed: show or hide the mark."""
        self._update()

    def watch_acting(self) -> None:
        """A remediation started or ended."""
        self._update()

    def watch_autoheal_text(self) -> None:
        """Autoheal toggled, acted or gave up."""
        self._update()

    def watch_history_status(self) -> None:
        """The history stopped or started working."""
        self._update()

    def on_resize(self) -> None:
        """Wording depends on the room."""
        self._update()

    def _update(self) -> None:
        if not self._labels:  # before on_mount
            return
        snapshot = self.snapshot
        self._set("paused", "PAUSED", "", visible=self.paused)
        self._set("stale", f"STALE: {self.stale}", "-warning", visible=self.stale is not None)
        self._set("acting", f"⟳ {self.acting}", "-careful", visible=self.acting is not None)
        heal = self.autoheal_text
        self._set("autoheal", heal or "", "-warning" if heal and "gave up" in heal else "",
                  visible=heal is not None)  # fmt: skip
        history = self.history_status
        self._set("history-status", history or "", "-warning", visible=history is not None)
        if snapshot is None:
            return
        overall = snapshot.levels.overall
        self._set("overall", level_label(overall), level_class(overall))
        self._set("host", snapshot.host.hostname, "")
        docker = snapshot.docker
        compact = self.size.width < 100
        # The context's name is what the operator chose (`docker context use prod`): say it before its URL.
        where = f"{docker.context} {docker.host}" if docker.context else docker.host
        if docker.reachable:
            version = f" {docker.version}" if docker.version else ""
            self._set("engine", f"{docker.product}{version} {where}", "")
            self._set("updated", clock(snapshot.taken_at) if compact else f"updated {clock(snapshot.taken_at)}", "")
        else:
            self._set("engine", f"ENGINE UNREACHABLE: {docker.error or 'no answer'} ({where})", "-critical")
            last = clock(self.last_good) if self.last_good else "never"
            self._set("updated", f"last good {last}", "-warning")

    def _set(self, part: str, text: str, level: str, *, visible: bool = True) -> None:
        label = self._labels[part]
        if label.display != visible:
            label.display = visible
        before = self._shown.get(part)
        if before == (text, level):
            return
        self._shown[part] = (text, level)
        # Same length, same size: repaint the label only, not the whole screen's layout.
        label.update(text, layout=before is None or len(before[0]) != len(text))
        label.update_classes({name: name == level for name in LEVEL_CLASSES})  # restyled once, not per class
