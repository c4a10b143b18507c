"""The test image: a root filesystem holding the host's static busybox and a link per applet."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tarfile
import time
from pathlib import Path

BUSYBOX_IMAGE = "pixel-busybox:latest"
"""The image every test container runs: a static busybox and all its applets, nothing else."""

REQUIRED_APPLETS = ("sh", "sleep", "cat", "echo", "true", "yes", "top", "env", "ls", "ps", "kill")
"""Applets the tests rely on; no engine is offered when the host's busybox lacks one."""

IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""PATH inside the image (an imported image has no ENV unless told)."""

IMAGE_CHANGES = (f"ENV PATH={IMAGE_PATH}", 'CMD ["sh"]')
"""Dockerfile instructions applied at import."""

_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox", "/usr/lib/initramfs-tools/bin/busybox")
_PT_INTERP = 3


def is_static_elf(path: Path) -> bool:
    """True when `path` is an ELF executable without a program interpreter (statically linked)."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF":
                return False
            endian = "<" if head[5] == 1 else ">"
            if head[4] == 2:  # ELFCLASS64: e_phoff at 32 (8 bytes), e_phentsize and e_phnum at 54
                (phoff,) = struct.unpack_from(endian + "Q", head, 32)
                phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            else:  # ELFCLASS32: e_phoff at 28 (4 bytes), e_phentsize and e_phnum at 42
                (phoff,) = struct.unpack_from(endian + "I", head, 28)
                phentsize, phnum = struct.unpack_from(endian + "HH", head, 42)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                if struct.unpack(endian + "I", f.read(4))[0] == _PT_INTERP:
                    return False  # it needs a dynamic loader the image does not have
            return True
    except (OSError, struct.error):
        return False


def find_busybox() -> Path | None:
    """The host's statically linked busybox (package busybox-static), or None."""
    for candidate in (shutil.which("busybox"), *_CANDIDATES):
        if candidate and is_static_elf(Path(candidate)):
            return Path(candidate)
    return None


def applets(busybox: Path) -> list[str]:
    """Relative paths (`bin/sh`, `usr/bin/yes`, ...) of every applet this busybox provides."""
    out = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=False, timeout=10)
    return [line.strip().lstrip("/") for line in out.stdout.splitlines() if "/" in line]


def missing_applets(busybox: Path) -> list[str]:
    """The REQUIRED_APPLETS this busybox lacks."""
    have = {Path(p).name for p in applets(busybox)}
    return [a for a in REQUIRED_APPLETS if a not in have]


def rootfs_tar(busybox: Path) -> bytes:
    """An uncompressed tarball of a root filesystem: busybox, a symlink per applet, passwd and group."""
    buf = io.BytesIO()
    now = int(time.time())

    def add(name: str, kind: bytes = tarfile.DIRTYPE, mode: int = 0o755, data: bytes = b"", link: str = "") -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime, info.linkname = kind, mode, now, link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "root", "var"):
            add(d)
        add("tmp", mode=0o1777)
        add("var/tmp", mode=0o1777)
        add("bin/busybox", tarfile.REGTYPE, data=busybox.read_bytes())
        add("etc/passwd", tarfile.REGTYPE, 0o644, passwd)
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
        for applet in applets(busybox):
            if applet != "bin/busybox":
                add(applet, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
    return buf.getvalue()
