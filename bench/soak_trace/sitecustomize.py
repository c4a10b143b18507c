"""Tracemalloc for bench_soak.py --trace: imported at start-up by any Python whose PYTHONPATH holds this folder.

When PIXEL_SOAK_TRACE names a path prefix, tracing starts (PIXEL_SOAK_TRACE_FRAMES frames, default 8) and a
daemon thread dumps a raw snapshot every PIXEL_SOAK_TRACE_EVERY seconds to <prefix>-<n>.snap. Only the dump
happens in the traced process (C code, a second or so): comparing two snapshots walks every trace in Python
and, in a busy Textual app, starves the event loop for minutes. `compare.py` does it afterwards, apart.
Nothing happens without PIXEL_SOAK_TRACE.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc

_PREFIX = os.environ.get("PIXEL_SOAK_TRACE")


def _dump_forever(prefix: str, every: float) -> None:
    count = 0
    while True:
        time.sleep(every)
        count += 1
        tracemalloc.take_snapshot().dump(f"{prefix}-{count:02d}.snap")


if _PREFIX:
    tracemalloc.start(int(os.environ.get("PIXEL_SOAK_TRACE_FRAMES", "8")))
    every = float(os.environ.get("PIXEL_SOAK_TRACE_EVERY", "60"))
    threading.Thread(target=_dump_forever, args=(_PREFIX, every), name="soak-trace", daemon=True).start()
