"""cgroup file layouts: v1 (this CI host's) is covered by the real-engine tests; v2 and parsing here."""

from __future__ import annotations

import pytest

from pixel_tui.collect.cgroups import STAT_EVERY, _stat_value, open_handle

CID = "ab" * 32


def make_v2(root, relative: str, *, usage_usec: int, current: int, limit: str, inactive: int):
    directory = root / relative
    directory.mkdir(parents=True)
    (directory / "cpu.stat").write_text(f"usage_usec {usage_usec}\nuser_usec 1\nsystem_usec 2\n")
    (directory / "memory.current").write_text(f"{current}\n")
    (directory / "memory.max").write_text(f"{limit}\n")
    (directory / "memory.stat").write_text(f"anon 100\nfile 200\ninactive_file {inactive}\nactive_file 5\n")
    return directory


@pytest.mark.parametrize("relative", [f"docker/{CID}", f"system.slice/docker-{CID}.scope"])
def test_v2_layouts(tmp_path, relative):
    directory = make_v2(tmp_path, relative, usage_usec=1500, current=10_000, limit="67108864", inactive=4_000)
    handle = open_handle(CID, None, root=tmp_path)
    assert handle is not None and handle.files.v2
    sample = handle.sample()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (1_500_000, 6_000, 67108864)
    (directory / "cpu.stat").write_text("usage_usec 2500\n")  # the counters are re-read in place
    assert handle.sample().cpu_ns == 2_500_000
    handle.close()


def test_v2_unlimited_and_missing(tmp_path):
    make_v2(tmp_path, f"docker/{CID}", usage_usec=1, current=10, limit="max", inactive=50)
    handle = open_handle(CID, None, root=tmp_path)
    sample = handle.sample()
    assert sample.mem_limit is None and sample.mem_used == 10  # inactive above usage: usage as is
    handle.close()
    assert open_handle("cd" * 32, None, root=tmp_path) is None


def test_v1_layout_with_split_cpu_and_cpuacct(tmp_path):
    for controller in ("cpuacct", "memory"):
        (tmp_path / controller / "docker" / CID).mkdir(parents=True)
    (tmp_path / "cpuacct" / "docker" / CID / "cpuacct.usage").write_text("123456789\n")
    memory = tmp_path / "memory" / "docker" / CID
    (memory / "memory.usage_in_bytes").write_text("50000\n")
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    (memory / "memory.stat").write_text("cache 1\ninactive_file 7\ntotal_inactive_file 20000\n")
    handle = open_handle(CID, None, root=tmp_path)
    sample = handle.sample()
    assert (sample.cpu_ns, sample.mem_used, sample.mem_limit) == (123456789, 30000, None)
    handle.close()


def test_stat_value():
    text = "cache 5\nrss 7\ninactive_file 9\ntotal_inactive_file 11\n"
    assert [_stat_value(text, key) for key in ("cache", "rss", "inactive_file", "total_inactive_file", "swap")] == [
        5,
        7,
        9,
        11,
        0,
    ]
    assert _stat_value("usage_usec 42", "usage_usec") == 42


def test_memory_stat_is_read_again_when_usage_moves_or_every_stat_every_samples(tmp_path):
    directory = make_v2(tmp_path, f"docker/{CID}", usage_usec=10, current=50_000, limit="max", inactive=20_000)
    handle = open_handle(CID, None, root=tmp_path)
    try:
        assert handle.sample().mem_used == 30_000
        # The usage moves: memory.stat is read with it, in the same sample.
        (directory / "memory.stat").write_text("anon 100\nfile 200\ninactive_file 0\nactive_file 5\n")
        (directory / "memory.current").write_text("60000\n")
        assert handle.sample().mem_used == 60_000
        # The page cache moves while the usage stays: not read at once (memory.stat costs 44 us a read on v1)...
        (directory / "memory.stat").write_text("anon 100\nfile 200\ninactive_file 10000\nactive_file 5\n")
        later = [handle.sample().mem_used for _ in range(STAT_EVERY)]
        # ...but after STAT_EVERY samples it is.
        assert later == [60_000] * (STAT_EVERY - 1) + [50_000], later
    finally:
        handle.close()
