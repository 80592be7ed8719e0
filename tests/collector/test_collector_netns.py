"""Real collector runs inside a network namespace built for the test (root and `ip netns` needed).

The namespace has two veth links with addresses, two default routes (metrics 100 and 200), an
iptables REJECT rule and a VXLAN device flannel.1 on dstport 8472; flannel's files come from a
temporary --sysroot whose env file, unit and pod log carry a planted etcd password.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from netsnap.sources import BY_ID, SOURCES

from .conftest import (
    SCRIPT,
    SECRET,
    STATUSES,
    Run,
    Topology,
    make_flannel_sysroot,
    ns_snapshot,
    read_bundle,
    run_collector,
    tree_snapshot,
)
from .test_collector_script import HOST_SOURCES, restricted_bin

pytestmark = pytest.mark.netns


@dataclass
class NsRun:
    run: Run
    before: dict[str, str]
    after: dict[str, str]
    sysroot_before: dict[str, tuple[int, int]]
    sysroot_after: dict[str, tuple[int, int]]
    cwd: Path
    output: Path


@pytest.fixture(scope="module")
def ns_run(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> NsRun:
    base = tmp_path_factory.mktemp("nsrun")
    root = make_flannel_sysroot(base / "root")
    out, cwd = base / "out", base / "cwd"
    out.mkdir()
    cwd.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "TMPDIR": str(cwd), "HOME": str(cwd)}
    sysroot_before = tree_snapshot(root)
    before = ns_snapshot(topology.ns)
    run = run_collector(out, sysroot=root, netns=topology.ns, env=env)
    after = ns_snapshot(topology.ns)
    return NsRun(run, before, after, sysroot_before, tree_snapshot(root), cwd, out)


def test_bundle_holds_the_namespace_facts(ns_run: NsRun) -> None:
    run = ns_run.run
    assert run.entry("ip_addr")["command"] == "ip -d address"
    assert run.entry("ip_link")["command"] == "ip -d link show"
    addr = run.text("links/ip-d-address")
    assert re.search(r"^\d+: va0@if\d+: .*\n(?:    .*\n)*    inet 10\.231\.0\.1/24 .* va0$", addr, re.M), addr
    assert "inet 10.231.1.1/24" in addr
    routes = run.text("routes/ip-route").splitlines()
    assert any(r.startswith("default via 10.231.0.2 dev va0 metric 100") for r in routes), routes
    assert any(r.startswith("default via 10.231.1.2 dev va1 metric 200") for r in routes)
    rules = run.text("firewall/iptables-save")
    assert re.search(r"^\[\d+:\d+\] -A INPUT -j REJECT --reject-with icmp-host-prohibited$", rules, re.M), rules
    link = run.text("links/ip-d-link")
    flannel = re.search(r"^\d+: flannel\.1: .*\n((?:    .*\n)+)", link, re.M)
    assert flannel and "vxlan id 1 " in flannel.group(1) and " dstport 8472 " in flannel.group(1)
    assert run.text("kernel/ethtool-k").startswith("Features for flannel.1:\n")
    assert run.entry("ethtool")["status"] == "ok"
    stats = run.text("links/ip-s-link")
    assert "RX:" in stats and "va1" in stats
    sysctl = run.text("kernel/sysctl")
    assert "net.ipv4.conf.flannel/1.rp_filter = " in sysctl
    assert "net.ipv4.conf.va0.rp_filter = " in sysctl
    proc_route = run.text("routes/proc-net-route")
    assert re.search(r"^va0\t00000000\t0200E70A\t", proc_route, re.M), proc_route
    assert re.search(r"^0\.0\.0\.0 +10\.231\.0\.2 +0\.0\.0\.0 +UG +100 ", run.text("routes/route-n"), re.M)
    assert run.text("flannel/etc-default-flanneld") == (
        'FLANNEL_OPTS="-etcd-endpoints=https://10.0.0.1:2379 -etcd-password=***REDACTED*** -iface=eth0"\n')


def test_manifest_lists_every_source(ns_run: NsRun) -> None:
    m = ns_run.run.manifest
    assert {e["id"] for e in m["sources"]} == HOST_SOURCES
    assert {s.id for s in SOURCES if s.id != "iptables_list"} == HOST_SOURCES
    for e in m["sources"]:
        assert e["status"] in STATUSES and e["path"] == BY_ID[e["id"]].path
    statuses = {e["id"]: e["status"] for e in m["sources"]}
    for sid in ("ip_route", "ip_addr", "ip_link", "iptables_save", "proc_net_route", "sysctl",
                "flannel_env_default", "flannel_unit", "flannel_pod_logs"):
        assert statuses[sid] == "ok", (sid, statuses[sid])


def test_planted_password_never_leaves_the_host(ns_run: NsRun) -> None:
    run = ns_run.run
    for rel, data in run.members.items():
        assert SECRET.encode() not in data, rel
    with open(run.tarball, "rb") as f:
        assert SECRET.encode() not in f.read()
    assert run.manifest["redactions"] > 0
    for sid in ("flannel_env_default", "flannel_unit", "flannel_pod_logs"):
        assert run.entry(sid)["redacted"] >= 1, sid
    assert "etcdPassword:***REDACTED***" in run.text("flannel/pod-logs")


def test_run_leaves_the_namespace_and_files_unchanged(ns_run: NsRun) -> None:
    for key in ns_run.before:
        assert ns_run.after[key] == ns_run.before[key], key
    assert ns_run.before["iptables"].count("REJECT") == 1
    assert ns_run.sysroot_after == ns_run.sysroot_before
    assert list(ns_run.cwd.iterdir()) == []
    assert [p.name for p in ns_run.output.iterdir()] == [ns_run.run.tarball.name]


def test_missing_iptables_and_route_are_recorded(topology: Topology, tmp_path: Path) -> None:
    drop = {"route", "iptables-save", "ip6tables-save", "iptables-legacy-save", "iptables-nft-save", "iptables",
            "ip6tables", "iptables-legacy", "iptables-nft", "xtables-legacy-multi", "xtables-nft-multi"}
    path = restricted_bin(tmp_path / "bin", drop)
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, netns=topology.ns, env={"PATH": str(path)})
    for sid in ("route_n", "iptables_save", "ip6tables_save", "iptables_legacy_save", "iptables_nft_save"):
        e = run.entry(sid)
        assert e["status"] == "command-missing" and e["exit_code"] is None, e
        assert BY_ID[sid].path not in run.members
    assert run.entry("proc_net_route")["status"] == "ok"
    assert re.search(r"^va1\t00000000\t0201E70A\t", run.text("routes/proc-net-route"), re.M)
    assert run.entry("ip_route")["status"] == "ok"


def test_odd_hostname_is_escaped(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private UTS namespace")
    odd = 'we"ird\\host name'
    # A private UTS namespace: the machine's own host name is never touched.
    script = 'printf %s "$1" >/proc/sys/kernel/hostname && sh "$2" --output "$3"'
    proc = subprocess.run(["unshare", "--uts", "sh", "-c", script, "sh", odd, str(SCRIPT), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    tarball = Path(proc.stdout.strip().splitlines()[-1])
    assert tarball.name.startswith("netsnap-we_ird_host_name-")
    top, members = read_bundle(tarball)
    assert top == tarball.name.removesuffix(".tar.gz")
    assert json.loads(members["manifest.json"])["hostname"] == odd
    assert members["identity/hostname"] == (odd + "\n").encode()
    assert socket.gethostname() != odd


def test_reader_accepts_the_bundle(ns_run: NsRun) -> None:
    """The contract with netsnap's bundle reader: manifest, paths and checksums are understood as-is."""
    from netsnap.bundle.reader import open_bundle

    bundle = open_bundle(ns_run.run.tarball)
    assert bundle.kind == "collector"
    assert bundle.problems == []
    assert bundle.collector_version == "0.1.0"
    assert bundle.redactions == ns_run.run.manifest["redactions"]
    for sid in ("ip_route", "ip_addr", "ip_link", "iptables_save", "sysctl", "flannel_env_default"):
        assert sid in bundle.files, sid
    assert "etcd-password=***REDACTED***" in bundle.files["flannel_env_default"].text
