"""What grew between two tracemalloc snapshots that bench_soak.py --trace dumped (by line, then by traceback).

.venv/bin/python bench/soak_trace/compare.py /tmp/soak-trace/console-02.snap /tmp/soak-trace/console-08.snap
"""

from __future__ import annotations

import argparse
import tracemalloc


def main() -> int:
    """Print the top growth from the first snapshot to the second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--top", type=int, default=30, help="lines and tracebacks shown (default 30)")
    args = parser.parse_args()
    first, second = tracemalloc.Snapshot.load(args.first), tracemalloc.Snapshot.load(args.second)
    total = sum(stat.size for stat in second.statistics("filename"))
    before = sum(stat.size for stat in first.statistics("filename"))
    print(f"traced {before / 1e6:.1f} MB -> {total / 1e6:.1f} MB ({(total - before) / 1e6:+.2f} MB)\n\nby line:")
    for stat in second.compare_to(first, "lineno")[: args.top]:
        print(stat)
    print("\nby traceback:")
    for stat in second.compare_to(first, "traceback")[: args.top]:
        print(f"{stat.size_diff / 1e3:+.1f} kB, {stat.count_diff:+d} blocks")
        print("\n".join("    " + line for line in stat.traceback.format()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
