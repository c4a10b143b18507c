"""The `pixel-tui history` commands: print the cycle history, import a file into it."""

from __future__ import annotations

import sys

from pixel_tui.headless import EXIT_UNKNOWN
from pixel_tui.paths import Paths
from pixel_tui.safe import printable
from pixel_tui.settings import Settings


def history(paths: Paths, settings: Settings, *, as_json: bool, as_csv: bool, last: int | None) -> int:
    """Print the cycle history, own and imported, in time order: a table, JSON or CSV."""
    from pixel_tui.history import output
    from pixel_tui.history.store import HistoryStore, HistoryUnavailable

    cycles = []
    try:
        present = paths.history_db.exists()
    except OSError:  # a directory it may not search: let the store say why
        present = True
    if present:  # listing never creates a store
        store = HistoryStore.for_settings(paths.history_db, settings.history, heal=False)
        try:
            cycles = store.recent(last)
        except HistoryUnavailable as error:
            print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
            return EXIT_UNKNOWN
        finally:
            store.close()
    if as_json:
        print(output.render_json(cycles))
    elif as_csv:
        print(output.render_csv(cycles))
    else:
        print(output.render_table(cycles, metric=settings.ui.history_metric))
    sys.stdout.flush()
    return 0


def history_import(
    paths: Paths, settings: Settings, file: str, *, first_cycle: int | None = None, cores: int | None = None
) -> int:
    """Import the cycles of `file` into the history; 3 when the file cannot be read or the store written.

    `first_cycle` and `cores` are `--first-cycle` and `--cores` (None: not given), for an audit log.
    """
    from pixel_tui.files import UnreadableFile
    from pixel_tui.history.importer import import_file
    from pixel_tui.history.output import render_import
    from pixel_tui.history.store import HistoryStore, HistoryUnavailable

    store = HistoryStore.for_settings(paths.history_db, settings.history)
    try:
        report = import_file(file, store, settings.thresholds, first_cycle=first_cycle, cores=cores)
    except FileNotFoundError:
        print(f"pixel-tui: cannot import {printable(file)}: no such file", file=sys.stderr)
        return EXIT_UNKNOWN
    except UnreadableFile as error:
        print(f"pixel-tui: cannot import {printable(file)}: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    except HistoryUnavailable as error:
        print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    finally:
        store.close()
    for notice in store.notices:
        print(f"pixel-tui: {printable(notice)}", file=sys.stderr)
    print(render_import(report))
    sys.stdout.flush()
    return 0
