"""Which engine answers: podman's compat socket or Docker, from the engine's /version (recorded documents)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pixel_tui.engine.client import engine_product
from pixel_tui.headless import render_table
from pixel_tui.model import DockerState
from tests.scripted import FIRST_CYCLE, crisis_frames

# podman 4.3.1's compat /version, as Debian 12's answered here (details cut); Docker's names its "Engine".
PODMAN_4_VERSION = {
    "Platform": {"Name": "linux/amd64/debian-12"},
    "Components": [
        {"Name": "Podman Engine", "Version": "4.3.1", "Details": {"APIVersion": "4.3.1", "MinAPIVersion": "4.0.0"}},
        {"Name": "Conmon", "Version": "conmon version 2.1.6, commit: unknown", "Details": {}},
        {"Name": "OCI Runtime (runc)", "Version": "runc version 1.1.5+ds1", "Details": {}},
    ],
    "Version": "4.3.1",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.24",
}
DOCKER_20_VERSION = {
    "Platform": {"Name": ""},
    "Components": [
        {"Name": "Engine", "Version": "20.10.24+dfsg1", "Details": {"ApiVersion": "1.41"}},
        {"Name": "containerd", "Version": "1.6.20~ds1", "Details": {}},
        {"Name": "runc", "Version": "1.1.5+ds1", "Details": {}},
        {"Name": "docker-init", "Version": "0.19.0", "Details": {}},
    ],
    "Version": "20.10.24+dfsg1",
    "ApiVersion": "1.41",
}


@pytest.mark.parametrize(
    ("about", "product"),
    [
        (PODMAN_4_VERSION, "podman"),
        (DOCKER_20_VERSION, "docker"),
        ({"Version": "1.13.1", "ApiVersion": "1.26"}, "docker"),  # before Components
        ({"Components": None}, "docker"),
        ({"Components": ["Podman Engine"]}, "docker"),  # not the shape of a component
        (None, "docker"),
    ],
)
def test_the_product_from_the_version_document(about, product):
    assert engine_product(about) == product


def test_snapshot_text_names_podman():
    frame = crisis_frames(FIRST_CYCLE, FIRST_CYCLE)[0]
    on_podman = replace(frame, docker=DockerState(True, "ssh://root@db1", None, "4.3.1", product="podman"))
    assert "docker ssh://root@db1: engine podman 4.3.1, " in render_table(on_podman)
    assert f"docker {frame.docker.host}: engine 27.3.1, " in render_table(frame)  # Docker: as before
