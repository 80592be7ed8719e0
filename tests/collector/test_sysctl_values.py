"""Collected sysctl values equal the kernel's, under every shell (dash and busybox `read` used to
keep only the first digit of /proc/sys integers: nf_conntrack_max 262144 became 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.collector.conftest import run_collector

SHELLS = {"bash": ("bash",), "dash": ("dash",), "busybox": ("busybox", "sh")}


def _proc_path(key: str) -> Path:
    parts = key.split(".")
    # interface names keep their dots in /proc/sys (the bundle writes them as slashes, as sysctl does)
    return Path("/proc/sys").joinpath(*(p.replace("/", ".") for p in parts))


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_sysctl_values_are_the_kernels(shell: str, tmp_path: Path) -> None:
    argv = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    run = run_collector(tmp_path, shell=argv)
    compared = 0
    for line in run.text("kernel/sysctl").splitlines():
        key, _, value = line.partition(" = ")
        path = _proc_path(key)
        if not path.exists():  # an interface that went away between collection and now
            continue
        assert value == path.read_text().strip().splitlines()[0], key
        compared += 1
    assert compared > 0
