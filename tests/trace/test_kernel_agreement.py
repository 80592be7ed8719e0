"""netsnap's trace against the real kernel: namespaces built like flannel hosts, bundles taken by the
real collector, and the verdict compared with what ping says in the same topology.

Each test builds its own lab (2 hosts + fabric + one container each) and removes it afterwards.
"Unknown" is asserted only where the bundles lack the information (the fabric's filtering).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netsnap.load import load_snapshot
from netsnap.model import Snapshot
from netsnap.secgroups import SecurityGroups, attach
from netsnap.trace.engine import TraceEngine
from netsnap.trace.result import TraceResult
from tests.lab.cluster import RHEL_DEFAULT, FlannelLab
from tests.lab.netns import NetnsLab, skip_reason

REASON = skip_reason()
pytestmark = [pytest.mark.netns, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

OPEN = SecurityGroups(default="open")  # the lab fabric filters nothing unless a test says so
POD1 = "10.244.1.5"
POD0 = "10.244.0.5"



@pytest.fixture
def lab() -> Iterator[NetnsLab]:
    with NetnsLab() as netns:
        yield netns


def snapshot(fl: FlannelLab, tmp_path: Path) -> Snapshot:
    return load_snapshot(fl.collect(tmp_path / "bundles"))


def agree(kernel: bool, result: TraceResult) -> None:
    want = "reachable" if kernel else "unreachable"
    got = f"{result.verdict} {result.disposition}: {result.reason}"
    assert result.verdict == want, f"kernel says {want}; netsnap: {got}"


def native_sg(path: Path, *rules: str) -> Path:
    body = "format: netsnap-sg/1\ngroup: sg-lab\nrules:\n"
    for rule in rules:
        fields = dict(item.split("=", 1) for item in rule.split())
        body += "  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"
    path.write_text(body)
    return path


def test_healthy_overlay(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 3).build(cloud=True)
    flows = [(h.name, p.pod_ip) for h in fl.hosts for p in fl.hosts if p is not h]
    flows += [("master", "192.168.0.12"), ("node2", "10.244.2.5")]
    kernel = {(s, d): fl.ping(s, d) for s, d in flows}
    assert all(kernel.values())
    snap = snapshot(fl, tmp_path)
    eng = TraceEngine(snap, OPEN)
    for (src, dst), ok in kernel.items():
        agree(ok, eng.trace(src, dst))
    hops = eng.trace("master", POD1).hops
    assert [s.stage for s in hops if "vxlan" in s.stage] == ["vxlan encap", "vxlan decap"]
    # cloud VMs without any security-group export: the crossing between the hosts is undecidable ...
    unknown = TraceEngine(snap).trace("master", POD1)
    assert unknown.verdict == "unknown" and "ingress udp 8472 from 192.168.0.11" in unknown.reason
    # ... and an export that allows the traffic makes it certain
    sg = native_sg(tmp_path / "sg.yaml", "direction=ingress protocol=udp ports=8472 remote=192.168.0.0/24",
                   "direction=ingress protocol=icmp", "direction=egress protocol=any")
    groups = attach(snap, f"master={sg}")
    groups = attach(snap, f"node1={sg}", groups)
    agree(True, TraceEngine(snap, groups).trace("master", POD1))


def test_bare_metal_overlay_needs_no_export(lab: NetnsLab, tmp_path: Path) -> None:
    # no cloud evidence (plain MACs, no metadata route): no security group is assumed, and the verdict is the
    # kernel's, with the assumption stated on the trace
    fl = FlannelLab(lab, 2).build()
    ok = fl.ping("master", POD1)
    assert ok
    r = TraceEngine(snapshot(fl, tmp_path)).trace("master", POD1)
    agree(ok, r)
    assert r.verdict == "reachable"
    assert "master: no cloud evidence (cloud MAC prefix, metadata route, DMI): no security group in front of eth1" in \
        r.assumptions


def _strip(bundle: str, dest: Path, *sources: str) -> str:
    """The bundle unpacked into `dest` without the given files (as if the collector had not captured them)."""
    import tarfile

    from tests.rules.bundles import write_manifest

    with tarfile.open(bundle) as tar:
        tar.extractall(dest, filter="data")
    (root,) = [p for p in dest.iterdir() if p.is_dir()]
    for rel in sources:
        (root / rel).unlink()
    write_manifest(root)
    return str(root)


def test_missing_tables_do_not_change_the_kernels_verdict(lab: NetnsLab, tmp_path: Path) -> None:
    # issue 12: a bundle without ip neigh / bridge fdb / ip addr is "not collected", never "empty": what the
    # other evidence implies is used, and stated as an assumption; the verdict stays the kernel's
    fl = FlannelLab(lab, 2).build()
    kernel = {dst: fl.ping("master", dst) for dst in (POD1, "192.168.0.12")}
    bundles = fl.collect(tmp_path / "bundles")
    stripped = [_strip(b, tmp_path / f"s{i}", "neigh/ip-neigh", "neigh/bridge-fdb", "links/ip-d-address")
                for i, b in enumerate(bundles)]
    snap = load_snapshot(stripped)
    assert not any(h.has("ip_neigh") or h.has("bridge_fdb") or h.has("ip_addr") for h in snap.hosts)
    eng = TraceEngine(snap)
    for dst, ok in kernel.items():
        r = eng.trace("master", dst)
        agree(ok, r)
    r = eng.trace("master", POD1)
    joined = " ".join(r.assumptions + (r.reply.assumptions if r.reply else []))
    assert "the neighbour table was not collected" in joined and "bridge fdb was not collected" in joined
    assert "ip addr not collected" in joined


def test_reject_icmp_host_prohibited_in_input_and_forward(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", RHEL_DEFAULT)
    to_pod, to_node = fl.ping("master", POD1), fl.ping("master", "192.168.0.12")
    assert (to_pod, to_node) == (False, True)
    eng = TraceEngine(snapshot(fl, tmp_path), OPEN)
    r = eng.trace("master", POD1)
    agree(to_pod, r)
    assert r.disposition == "denied-in" and "icmp-host-prohibited" in r.reason and "node1 INPUT" in r.reason
    assert r.hops[-1].consulted[0].file == "firewall/iptables-save"
    agree(to_node, eng.trace("master", "192.168.0.12"))
    # TCP: 22 is accepted (the SYN,ACK comes back as ESTABLISHED), 23 is rejected
    fl.listen("node1", 22)
    fl.listen("node1", 23)
    ssh, telnet = fl.tcp_connects("master", "192.168.0.12", 22), fl.tcp_connects("master", "192.168.0.12", 23)
    assert (ssh, telnet) == (True, False)
    agree(ssh, eng.trace("master", "192.168.0.12", "tcp", 22))
    agree(telnet, eng.trace("master", "192.168.0.12", "tcp", 23))
    # UDP to the node itself is rejected by INPUT too; from the node to the master it is delivered
    udp_in, udp_out = (fl.udp_delivered("master", "node1", "192.168.0.12", 9000),
                       fl.udp_delivered("node1", "master", "192.168.0.11", 9000))
    assert (udp_in, udp_out) == (False, True)
    agree(udp_in, eng.trace("master", "192.168.0.12", "udp", 9000))
    agree(udp_out, eng.trace("node1", "192.168.0.11", "udp", 9000))
    # open VXLAN in INPUT: now FORWARD's REJECT stops the pod traffic
    fl.sh("node1", "iptables -I INPUT 1 -p udp --dport 8472 -j ACCEPT")
    to_pod = fl.ping("master", POD1)
    r = TraceEngine(snapshot(fl, tmp_path / "2"), OPEN).trace("master", POD1)
    agree(to_pod, r)
    assert "node1 FORWARD" in r.reason


def test_udp_8472_dropped_between_hosts(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build(cloud=True)
    # the "security group" of node1, emulated in the fabric: its bundles cannot see it
    lab.sh("fabric", "sysctl -qw net.bridge.bridge-nf-call-iptables=1 && "
                     "iptables -A FORWARD -p udp --dport 8472 -d 192.168.0.12 -j DROP")
    to_pod, to_node = fl.ping("master", POD1), fl.ping("master", "192.168.0.12")
    assert (to_pod, to_node) == (False, True)
    snap = snapshot(fl, tmp_path)
    unknown = TraceEngine(snap).trace("master", POD1)
    assert unknown.verdict == "unknown" and "node1's group has: ingress udp 8472 from 192.168.0.11" in unknown.reason
    allow_all = native_sg(tmp_path / "master.yaml", "direction=ingress protocol=any", "direction=egress protocol=any")
    node_sg = native_sg(tmp_path / "node1.yaml", "direction=ingress protocol=icmp remote=192.168.0.0/24",
                        "direction=egress protocol=any")
    groups = attach(snap, f"master={allow_all}")
    groups = attach(snap, f"192.168.0.12={node_sg}", groups)
    eng = TraceEngine(snap, groups)
    r = eng.trace("master", POD1)
    agree(to_pod, r)
    assert r.disposition == "denied-in" and "needs ingress udp 8472 from 192.168.0.11" in r.reason
    agree(to_node, eng.trace("master", "192.168.0.12"))


def test_vtep_bound_to_the_wrong_nic(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2, vtep={"master": "172.16.0.11"}).build()
    fl.sh("node1", "ip addr flush dev eth0 && ip addr add 172.17.0.12/24 dev eth0")  # node1 cannot reach 172.16/24
    to_pod = fl.ping("master", POD1)
    assert not to_pod
    r = TraceEngine(snapshot(fl, tmp_path), OPEN).trace("master", POD1)
    agree(to_pod, r)
    assert r.reply is not None and r.reply.disposition == "no-route" and "172.16.0.11" in r.reply.reason
    encap = next(s for s in r.hops if s.stage == "vxlan encap")
    assert "outer udp 172.16.0.11 -> 192.168.0.12:8472" in encap.detail


def test_forward_policy_drop(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", "iptables -P FORWARD DROP")
    to_pod = fl.ping("master", POD1)
    assert not to_pod
    r = TraceEngine(snapshot(fl, tmp_path), OPEN).trace("master", POD1)
    agree(to_pod, r)
    assert r.disposition == "denied-in" and "policy DROP" in r.reason
    fl.sh("node1", "iptables -A FORWARD -s 10.244.0.0/16 -j ACCEPT && iptables -A FORWARD -d 10.244.0.0/16 -j ACCEPT")
    to_pod = fl.ping("master", POD1)
    assert to_pod
    agree(to_pod, TraceEngine(snapshot(fl, tmp_path / "2"), OPEN).trace("master", POD1))


def test_two_default_routes(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build()
    fl.sh("node1", "ip addr add 10.99.0.1/32 dev lo")
    fl.sh("master", "ip route add default via 172.16.0.12 dev eth0 && "
                    "ip route append default via 192.168.0.12 dev eth1")
    healthy = fl.ping("master", "10.99.0.1", count=4)
    assert healthy
    r = TraceEngine(snapshot(fl, tmp_path), OPEN).trace("master", "10.99.0.1")
    agree(healthy, r)
    assert len(r.branches) == 2 and {b.verdict for b in r.branches} == {"reachable"}
    # break the path through the first default route: the kernel keeps using it
    fl.sh("node1", "iptables -A INPUT -i eth0 -d 10.99.0.1 -j DROP")
    broken = fl.ping("master", "10.99.0.1", count=4)
    assert not broken
    r = TraceEngine(snapshot(fl, tmp_path / "2"), OPEN).trace("master", "10.99.0.1")
    agree(broken, r)
    assert sorted((b.share, b.verdict) for b in r.branches) == [(0.5, "reachable"), (0.5, "unreachable")]
    assert "50% of the traffic is delivered" in r.reason


def test_same_subnet_on_two_nics(lab: NetnsLab, tmp_path: Path) -> None:
    # master's eth0 (management bridge) gets a 192.168.0.0/24 address first: its route is listed first
    fl = FlannelLab(lab, 2).build(first_address={"master": "ip addr add 192.168.0.21/24 dev eth0"})
    fl.sh("node1", "sysctl -qw net.ipv4.conf.all.arp_ignore=1")
    to_node = fl.ping("master", "192.168.0.12")
    assert not to_node
    r = TraceEngine(snapshot(fl, tmp_path), OPEN).trace("master", "192.168.0.12")
    agree(to_node, r)
    assert r.disposition == "neighbour-unreachable" and "192.168.0.12 on eth0" in r.reason
    route = next(s for s in r.hops if s.stage == "route")
    assert "tie with 1 equal route" in route.detail


def test_mtu_mismatch(lab: NetnsLab, tmp_path: Path) -> None:
    fl = FlannelLab(lab, 2).build(eth1_mtu={"node1": 1400})
    big, small = fl.ping("master", POD1, size=1428), fl.ping("master", POD1)
    assert (big, small) == (False, True)
    eng = TraceEngine(snapshot(fl, tmp_path), OPEN)
    r = eng.trace("master", POD1, size=1428)
    agree(big, r)
    assert r.disposition == "mtu-exceeded" and "mtu 1400 of eth1 on node1" in r.reason
    agree(small, eng.trace("master", POD1))
