"""When a host-wide step (drop the page cache, cycle swap) must not run: its preconditions, in words."""

from __future__ import annotations

from pixel_tui import format as fmt
from pixel_tui.levels import METRIC
from pixel_tui.model import Level
from pixel_tui.remediate.host import HostSystem
from pixel_tui.settings import Settings

HOST_OPS = frozenset({"drop-caches", "cycle-swap"})
"""The operations on the host itself, checked here before they run (and before a person is asked)."""


def host_refusal(op: str, host: HostSystem, settings: Settings, *, sample_traffic: bool = True) -> str | None:
    """Why `op` must not run on `host` now, or None. `sample_traffic=False` skips the swap traffic sample (it
    takes `remediate.swap_sample_s`): the quick checks a plan makes before it asks."""
    if not host.is_root():
        return "needs root (pixel-tui runs as a user that cannot drop caches or swap off)"
    memory = host.memory()
    thresholds = settings.thresholds
    if op == "drop-caches":
        metric = METRIC["memory"]
        level = metric.level(memory.percent, thresholds)
        if level.rank < Level.WARNING.rank:
            return (
                f"memory is at {memory.percent:.1f} % ({level.value}); the page cache is only dropped at "
                f"warning ({metric.limits(thresholds)[1]:g} %) or worse"
            )
        return None
    remediate = settings.remediate
    if memory.swap_used == 0:
        return "no swap is in use: nothing to cycle"
    margin = memory.total * remediate.swap_margin_percent / 100
    if memory.available <= memory.swap_used + margin:
        return (
            f"available memory {fmt.size(memory.available)} does not exceed swap used "
            f"{fmt.size(memory.swap_used)} by the margin {fmt.size(margin)} "
            f"({remediate.swap_margin_percent:g} % of {fmt.size(memory.total)})"
        )
    if sample_traffic:
        traffic = host.swap_traffic(remediate.swap_sample_s)
        if traffic >= remediate.swap_traffic_limit:
            return (
                f"swap traffic is {traffic:.1f} pages/s over {remediate.swap_sample_s:g} s "
                f"(cycling needs under {remediate.swap_traffic_limit:g})"
            )
    return None
