"""Helpers for the collector tests: run the script, open its bundle, build network namespaces."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).parents[2] / "collectors" / "netsnap-collect.sh"
BUNDLE_NAME = re.compile(r"^netsnap-[A-Za-z0-9._-]+-\d{8}T\d{6}Z$")
STATUSES = {"ok", "command-missing", "failed", "timed-out", "truncated", "empty", "absent"}


@dataclass
class Run:
    """One finished collector run and the bundle it wrote."""

    proc: subprocess.CompletedProcess[str]
    tarball: Path
    top: str
    members: dict[str, bytes] = field(default_factory=dict)

    @property
    def manifest(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.members["manifest.json"])
        return value

    def entry(self, source_id: str) -> dict[str, Any]:
        for e in self.manifest["sources"]:
            if e["id"] == source_id:
                return dict(e)
        raise KeyError(source_id)

    def text(self, rel: str) -> str:
        return self.members[rel].decode("utf-8", errors="replace")


def read_bundle(tarball: Path) -> tuple[str, dict[str, bytes]]:
    """The single top directory and the regular-file members (relative to it) of a bundle."""
    members: dict[str, bytes] = {}
    tops: set[str] = set()
    with tarfile.open(tarball, "r:gz") as tar:
        for info in tar.getmembers():
            top, _, rel = info.name.partition("/")
            tops.add(top)
            assert info.isfile() or info.isdir(), f"unexpected member type: {info.name}"
            if info.isfile():
                f = tar.extractfile(info)
                assert f is not None
                members[rel] = f.read()
    assert len(tops) == 1, f"expected one top directory, got {sorted(tops)}"
    return tops.pop(), members


def run_collector(output: Path, *, sysroot: Path | None = None, shell: Sequence[str] = ("sh",),
                  netns: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None,
                  extra: Sequence[str] = ()) -> Run:
    """Run the collector (optionally inside a network namespace) and open the bundle it printed."""
    partial = ["--allow-partial"] if os.geteuid() != 0 else []  # unprivileged test runs: a partial bundle is fine
    cmd = [*shell, str(SCRIPT), "--output", str(output), *partial, *extra]
    if sysroot is not None:
        cmd += ["--sysroot", str(sysroot)]
    if netns is not None:
        prefix = ["ip", "netns", "exec", netns]
        if env is not None:
            prefix += ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
        cmd = prefix + cmd
        env = None
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=cwd)
    assert proc.returncode == 0, f"collector failed ({proc.returncode}): {proc.stderr}"
    tarball = Path(proc.stdout.strip().splitlines()[-1])
    assert tarball.is_file(), f"last stdout line is not the bundle: {proc.stdout!r}"
    top, members = read_bundle(tarball)
    return Run(proc=proc, tarball=tarball, top=top, members=members)


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


def netns_available() -> str | None:
    """Why namespace tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"nscprobe{os.getpid()}"
    try:
        if _sh("ip", "netns", "add", probe, check=False).returncode != 0:
            return "ip netns is unavailable"
    finally:
        _sh("ip", "netns", "del", probe, check=False)
    return None


@dataclass
class Topology:
    """Namespace `ns` (the host under test) wired by two veth pairs to `peer`."""

    ns: str
    peer: str


def _build(ns: str, peer: str) -> None:
    def n(*args: str) -> None:
        _sh("ip", "-n", ns, *args)

    def p(*args: str) -> None:
        _sh("ip", "-n", peer, *args)

    _sh("ip", "netns", "add", ns)
    _sh("ip", "netns", "add", peer)
    for name in (ns, peer):
        # No IPv6 autoconfiguration: its tentative/DAD states would change between snapshots.
        _sh("ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1")
    n("link", "set", "lo", "up")
    n("link", "add", "va0", "type", "veth", "peer", "name", "vb0", "netns", peer)
    n("link", "add", "va1", "type", "veth", "peer", "name", "vb1", "netns", peer)
    n("addr", "add", "10.231.0.1/24", "dev", "va0")
    n("addr", "add", "10.231.1.1/24", "dev", "va1")
    p("addr", "add", "10.231.0.2/24", "dev", "vb0")
    p("addr", "add", "10.231.1.2/24", "dev", "vb1")
    for dev in ("va0", "va1"):
        n("link", "set", dev, "up")
    for dev in ("vb0", "vb1"):
        p("link", "set", dev, "up")
    n("route", "add", "default", "via", "10.231.0.2", "dev", "va0", "metric", "100")
    n("route", "add", "default", "via", "10.231.1.2", "dev", "va1", "metric", "200")
    n("link", "add", "flannel.1", "type", "vxlan", "id", "1", "dev", "va0", "local", "10.231.0.1",
      "dstport", "8472", "nolearning")
    n("addr", "add", "10.244.0.0/32", "dev", "flannel.1")
    n("link", "set", "flannel.1", "up")
    _sh("ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-j", "REJECT", "--reject-with",
        "icmp-host-prohibited")


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    if shutil.which("iptables") is None:
        pytest.skip("iptables is not installed")
    ns, peer = f"nsc{os.getpid()}h", f"nsc{os.getpid()}p"
    try:
        _build(ns, peer)
        yield Topology(ns=ns, peer=peer)
    finally:
        # Deleting the namespaces removes every link inside them.
        for name in (ns, peer):
            _sh("ip", "netns", "del", name, check=False)
        leftover = _sh("ip", "netns", "list").stdout
        assert ns not in leftover and peer not in leftover


def ns_snapshot(ns: str) -> dict[str, str]:
    """The namespace state a collector run must leave untouched."""
    def out(*args: str) -> str:
        return _sh("ip", "netns", "exec", ns, *args).stdout

    sysctls = "\n".join(
        line for line in out("sysctl", "-a").splitlines()
        if line.startswith("net.") and "conntrack_count" not in line and "stable_secret" not in line
    )
    return {
        "routes": out("ip", "route", "show", "table", "all"),
        "links": out("ip", "-d", "link"),
        "addrs": out("ip", "addr"),
        "iptables": re.sub(r"^#.*\n", "", out("iptables-save"), flags=re.M),
        "sysctls": sysctls,
    }


def tree_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its size and mtime (ns)."""
    snap: dict[str, tuple[int, int]] = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        snap[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return snap


SECRET = "s3cr3tP4ss"


def make_flannel_sysroot(root: Path) -> Path:
    """A sysroot with a flanneld env file, unit and kube-flannel pod log, each carrying SECRET."""
    (root / "etc/default").mkdir(parents=True)
    (root / "etc/default/flanneld").write_text(
        f'FLANNEL_OPTS="-etcd-endpoints=https://10.0.0.1:2379 -etcd-password={SECRET} -iface=eth0"\n'
    )
    unit = root / "etc/systemd/system/flanneld.service"
    unit.parent.mkdir(parents=True)
    unit.write_text(
        "[Unit]\nDescription=flannel\n\n[Service]\nEnvironmentFile=-/etc/default/flanneld\n"
        f"ExecStart=/usr/bin/flanneld -etcd-password={SECRET} $FLANNEL_OPTS\n"
    )
    log = root / "var/log/pods/kube-system_kube-flannel-x/kube-flannel/0.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "2026-11-26T10:00:00.000000000Z stderr F I1126 10:00:00.000000       1 main.go:211] CLI flags config: "
        "{etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 etcdPrefix:/coreos.com/network "
        f"etcdKeyfile: etcdCertfile: etcdCAFile: etcdUsername:admin etcdPassword:{SECRET} version:false "
        "kubeSubnetMgr:false iface:[eth0] ifaceRegex:[] ipMasq:true}\n"
        "2026-11-26T10:00:01.000000000Z stderr F I1126 10:00:01.000000       1 main.go:412] Found network "
        "config - Backend type: vxlan\n"
    )
    return root
