"""The file descriptor limit: raised at start, and the budget of cgroup files held open under it."""

from __future__ import annotations

from dataclasses import dataclass

try:
    import resource
except ImportError:  # not on Windows; there is no cgroup to hold open there either
    resource = None  # type: ignore[assignment]

TARGET = 65536
"""How far the soft limit is raised (or the hard limit, if lower). Far beyond any host's containers,
and it keeps a runaway leak from eating a whole `nr_open` (one million) worth of kernel memory."""
MIN_RESERVE = 128
"""Descriptors always left for sockets to the engine, files, the ledger, the terminal and Textual."""
UNKNOWN_LIMIT = 1024
"""Assumed when the limit cannot be read: the usual default soft limit."""


@dataclass(frozen=True)
class FdLimit:
    """What raising the soft RLIMIT_NOFILE did."""

    soft: int
    """The soft limit now in force."""
    hard: int | None
    """The hard limit (None: unlimited or unknown)."""
    before: int
    """The soft limit before."""
    error: str | None = None
    """Why the soft limit could not be raised as far as wanted; None when it was, or did not need to be."""


def soft_limit() -> int:
    """The soft RLIMIT_NOFILE in force now."""
    if resource is None:
        return UNKNOWN_LIMIT
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return UNKNOWN_LIMIT
    return soft if soft != resource.RLIM_INFINITY else TARGET


def raise_soft_limit(target: int = TARGET) -> FdLimit:
    """Raise the soft RLIMIT_NOFILE toward the hard limit (at most `target`); never lowers it.

    The usual soft limit of 1024 gives out near 300 containers (three cgroup files each); the hard
    limit is usually far higher and a process may raise its soft limit up to it unprivileged.
    """
    if resource is None:
        return FdLimit(UNKNOWN_LIMIT, None, UNKNOWN_LIMIT, "the file descriptor limit cannot be read here")
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as error:
        return FdLimit(UNKNOWN_LIMIT, None, UNKNOWN_LIMIT, f"cannot read the file descriptor limit: {error}")
    unlimited = resource.RLIM_INFINITY
    wanted = target if hard == unlimited else min(hard, target)
    hard_or_none = None if hard == unlimited else hard
    if soft != unlimited and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            message = f"soft file descriptor limit {soft} could not be raised to {wanted}: {reason}"
            return FdLimit(soft, hard_or_none, soft, message)
        return FdLimit(wanted, hard_or_none, soft)
    return FdLimit(soft if soft != unlimited else target, hard_or_none, soft if soft != unlimited else target)


def reserve(limit: int) -> int:
    """Descriptors kept out of the handle budget: a quarter of the limit, at least `MIN_RESERVE`."""
    return max(MIN_RESERVE, limit // 4)


def handle_budget(limit: int, fds_per_handle: int) -> int:
    """How many cgroup handles of `fds_per_handle` descriptors each may stay open under `limit`."""
    return max(0, (limit - reserve(limit)) // max(1, fds_per_handle))
