"""The collector run as an unprivileged user inside a network namespace (nobody, via setpriv): it still
writes a bundle, its last line names the sources that failed and why ("permission denied — run as root"),
and it exits 3 unless --allow-partial. Empty-but-successful sources are told apart from missing ones."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import SCRIPT, Topology, read_bundle

pytestmark = pytest.mark.netns
SUMMARY = re.compile(r"^netsnap-collect: (\d+) sources? failed: (.*); the bundle is partial \(run as root, or "
                     r"--allow-partial\)$")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """An output directory nobody can write to (pytest's own temporary directories are private to root)."""
    out = Path(tempfile.mkdtemp(prefix="netsnap-nobody-"))
    out.chmod(0o777)
    try:
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _as_nobody(topology: Topology, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "TMPDIR": str(out), "HOME": str(out)}
    cmd = ["ip", "netns", "exec", topology.ns, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
           "env", "-i", *(f"{k}={v}" for k, v in env.items()), "sh", str(SCRIPT), "--output", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_non_root_run_reports_its_failures_and_exits_3(topology: Topology, open_dir: Path) -> None:
    proc = _as_nobody(topology, open_dir)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("netsnap-collect: not running as root: iptables, ipset, nft and dmesg will fail")
    m = SUMMARY.match(lines[-1])
    assert m, lines[-1]
    groups = m.group(2)
    denied = re.search(r"permission denied — run as root \(([^)]*)\)", groups)
    assert denied, groups
    failed = denied.group(1).split(", ")
    assert "iptables_save" in failed  # the namespace has an iptables REJECT rule: the kernel says no
    assert "dmesg" in failed  # kernel.dmesg_restrict=1 on the test machine
    # still a bundle, its path the last line on stdout, and the manifest says why
    tarball = Path(proc.stdout.strip().splitlines()[-1])
    _, members = read_bundle(tarball)
    manifest = json.loads(members["manifest.json"])
    assert manifest["run_as_root"] is False
    entries = {e["id"]: e for e in manifest["sources"]}
    assert entries["iptables_save"]["status"] == "failed"
    assert re.search(r"[Pp]ermission denied|not permitted", entries["iptables_save"]["reason"])
    assert int(m.group(1)) == sum(1 for e in entries.values() if e["status"] in ("failed", "timed-out"))
    assert entries["ip_route"]["status"] == "ok"  # what a user may read is read


def test_allow_partial_accepts_the_partial_bundle(topology: Topology, open_dir: Path) -> None:
    proc = _as_nobody(topology, open_dir, "--allow-partial")
    assert proc.returncode == 0, proc.stderr
    assert SUMMARY.match(proc.stderr.strip().splitlines()[-1])
    assert Path(proc.stdout.strip().splitlines()[-1]).is_file()


def test_root_run_empty_answers_are_not_missing_sources(topology: Topology, tmp_path: Path) -> None:
    """As root in the namespace: an empty `ip neigh` (nothing resolved yet) is an answer (status empty, exit
    code 0, empty_answer true); a file that is not there is absent, with empty_answer false."""
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(["ip", "netns", "exec", topology.ns, "sh", str(SCRIPT), "--output", str(out),
                           "--sysroot", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    _, members = read_bundle(Path(proc.stdout.strip().splitlines()[-1]))
    manifest = json.loads(members["manifest.json"])
    assert manifest["run_as_root"] is True
    entries = {e["id"]: e for e in manifest["sources"]}
    empties = [e for e in entries.values() if e["status"] == "empty"]
    assert empties
    for e in empties:
        assert e["empty_answer"] is (e["exit_code"] == 0), e
    assert entries["subnet_env"]["status"] == "absent" and entries["subnet_env"]["empty_answer"] is False
    assert all(e["reason"] is None for e in entries.values() if e["status"] == "ok")
