"""End to end on the example bundles: bundle -> parsers -> Host -> trace."""

from __future__ import annotations

from pathlib import Path

from netsnap.load import load_snapshot
from netsnap.secgroups import SecurityGroups, attach
from netsnap.trace.engine import TraceEngine

FIX = Path(__file__).resolve().parents[2] / "fixtures"


def test_healthy_cluster_both_ways() -> None:
    snap = load_snapshot([str(FIX / "healthy" / "master"), str(FIX / "healthy" / "node1")])
    eng = TraceEngine(snap, SecurityGroups(default="open"))
    for src, dst in (("master", "10.244.1.5"), ("node1", "10.244.0.5"), ("master", "10.10.0.12")):
        r = eng.trace(src, dst)
        assert r.verdict == "reachable", (src, dst, r.reason)
    tcp = eng.trace("master", "10.10.0.12", "tcp", 10250)
    assert tcp.reply is not None and tcp.reply.verdict == "reachable"


def test_incident_a_security_group_lacks_udp_8472() -> None:
    snap = load_snapshot([str(FIX / "incident-a" / "master"), str(FIX / "incident-a" / "node1")])
    groups = attach(snap, f"master={FIX / 'incident-a' / 'sg-master.json'}")
    r = TraceEngine(snap, groups).trace("master", "172.18.5.2")
    assert (r.verdict, r.disposition) == ("unreachable", "denied-out")
    assert "needs egress udp 8472 to 192.168.0.16" in r.reason
    encap = next(s for s in r.hops if s.stage == "vxlan encap")
    assert "outer udp 172.16.0.4 -> 192.168.0.16:8472" in encap.detail  # flannel on the wrong NIC
    # with the cloud out of the picture, the node's reply heads for 172.16.0.4 through a gateway nobody analysed;
    # assumed to reach the master there, it is rejected by the master's INPUT
    r2 = TraceEngine(snap, SecurityGroups(default="open")).trace("master", "172.18.5.2")
    assert r2.reply is not None and r2.verdict == "unreachable"
    assert r2.reply.reason.startswith("master INPUT: rejected (icmp-host-prohibited)")
    assert "the network behind gateway 192.168.0.1 (not analysed) delivers 172.16.0.4 to master on eth0" in \
        r2.reply.assumptions


def test_a_pod_address_in_a_peer_lease_without_its_route_is_a_missing_peer_route(tmp_path: Path) -> None:
    """node1's lease is known (its bundle), master lacks the onlink route for it: the packet would leak to the
    default route, and the verdict says so instead of "unknown" at the unanalysed gateway."""
    import shutil

    from tests.rules.bundles import write_manifest

    for name in ("master", "node1"):
        shutil.copytree(FIX / "healthy" / name, tmp_path / name)
    routes = tmp_path / "master" / "routes" / "ip-route"
    routes.write_text("".join(ln for ln in routes.read_text().splitlines(keepends=True)
                              if not ln.startswith("10.244.1.0/24 via 10.244.1.0 dev flannel.1")))
    write_manifest(tmp_path / "master")
    snap = load_snapshot([str(tmp_path / "master"), str(tmp_path / "node1")])
    r = TraceEngine(snap, SecurityGroups(default="open")).trace("master", "10.244.1.5")
    assert (r.verdict, r.disposition) == ("unreachable", "no-route")
    assert r.reason.startswith("master: missing peer route: 10.244.1.5 is in node1's pod lease 10.244.1.0/24 but "
                               "master has no route for it via the overlay")


def test_a_host_without_its_packet_filter_is_undecided_and_says_what_decides() -> None:
    """sos 4.12 lists iptables only when nft shows an `ip filter` table: master's sosreport has none."""
    sos = sorted((FIX / "sos-4.12").glob("sosreport-*"))
    snap = load_snapshot([str(p) for p in sos])
    r = TraceEngine(snap, SecurityGroups(default="open")).trace("node1", "192.168.0.11", "udp", 8472)
    assert r.verdict == "unknown"
    assert ("master: the packet filter was not collected; INPUT filtering unknown (`iptables-save` and "
            "`nft list ruleset` on master would decide)") in r.reason
