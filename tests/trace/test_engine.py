"""The trace engine on hand-built hosts: each behaviour of the kernel it simulates."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.model import Snapshot
from netsnap.secgroups import SecurityGroups, load_file
from netsnap.trace.engine import TraceEngine, TraceError, trace
from netsnap.trace.result import TraceResult
from tests.trace.builders import ACCEPT_ALL, host, overlay

OPEN = SecurityGroups(default="open")
FIX = Path(__file__).resolve().parents[2] / "fixtures" / "secgroups"

REJECT_END = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""


def stages(result: TraceResult) -> list[str]:
    return [f"{s.host}:{s.stage}" for s in result.hops]


def test_healthy_overlay_is_reachable_hop_by_hop() -> None:
    r = trace(overlay(), "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("reachable", "delivered")
    assert r.src_ip == "10.244.0.0"  # flannel.1's address: the route's device
    assert stages(r)[:3] == ["master:originate", "master:route", "master:vxlan encap"]
    assert "node1:vxlan decap" in stages(r)
    encap = next(s for s in r.hops if s.stage == "vxlan encap")
    assert "192.168.0.10 -> 192.168.0.11:8472 vni 1" in encap.detail
    assert {e.file for e in encap.consulted} >= {"neigh/ip-neigh", "neigh/bridge-fdb"}
    assert r.reply is not None and r.reply.verdict == "reachable"
    assert "master:vxlan decap" in stages(r.reply)


def test_without_security_group_exports_crossing_is_unknown_and_names_the_rule() -> None:
    r = trace(overlay(), "master", "10.244.1.5")
    assert (r.verdict, r.disposition) == ("unknown", "insufficient-info")
    assert "egress udp 8472 to 192.168.0.11" in r.reason
    assert "ingress udp 8472 from 192.168.0.10" in r.reason


def test_security_group_without_8472_denies_in() -> None:
    groups = SecurityGroups(attached={"node1": [load_file(str(FIX / "incident-a-no-8472.json"))],
                                      "master": [load_file(str(FIX / "openstack-rule-list.json"))]})
    r = trace(overlay(), "master", "10.244.1.5", security_groups=groups)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "node1 security group ingress" in r.reason and "needs ingress udp 8472 from 192.168.0.10" in r.reason
    # with the rule present on both sides the overlay works both ways
    good = load_file(str(FIX / "openstack-rule-list.json"))
    ok = trace(overlay(), "master", "10.244.1.5", security_groups=SecurityGroups(attached={"node1": [good],
                                                                                          "master": [good]}))
    assert ok.verdict == "reachable"
    assert any(s.stage == "security group ingress" and s.action == "permit" and s.consulted for s in ok.hops)


def test_reject_at_end_of_input_rejects_the_vxlan_packets() -> None:
    r = trace(overlay(node_ipt=REJECT_END), "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "node1 INPUT" in r.reason and "icmp-host-prohibited" in r.reason
    last = r.hops[-1]
    assert last.consulted[0].file == "firewall/iptables-save" and last.consulted[0].line == 9
    assert any(s.host == "node1" and s.stage == "receive" and "udp 192.168.0.10 -> 192.168.0.11" in s.detail
               for s in r.hops)  # it is the outer VXLAN packet that INPUT refuses


def test_reject_at_end_of_forward_on_the_node() -> None:
    ipt = REJECT_END.replace("-A INPUT -p icmp", "-A INPUT -p udp -m udp --dport 8472 -j ACCEPT\n-A INPUT -p icmp")
    r = trace(overlay(node_ipt=ipt), "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "node1 FORWARD" in r.reason and "icmp-host-prohibited" in r.reason
    last = r.hops[-1]
    assert last.consulted[0].line == 11
    assert "-A FORWARD -j REJECT --reject-with icmp-host-prohibited" in last.consulted[0].text


def test_reject_in_input_on_the_master_blocks_the_returning_vxlan_packets() -> None:
    r = trace(overlay(master_ipt=REJECT_END), "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert r.reply is not None and "master INPUT" in r.reply.reason and "reply fails" in r.reason
    # accepting VXLAN lets the reply in; the inner echo-reply then matches ESTABLISHED
    vx = REJECT_END.replace("-A INPUT -p icmp", "-A INPUT -p udp -m udp --dport 8472 -j ACCEPT\n-A INPUT -p icmp")
    assert trace(overlay(master_ipt=vx), "master", "10.244.1.5", security_groups=OPEN).verdict == "reachable"
    # without the ESTABLISHED and icmp rules the inner reply is rejected
    bare = vx.replace("-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n", "").replace(
        "-A INPUT -p icmp -j ACCEPT\n", "")
    r2 = trace(overlay(master_ipt=bare), "master", "10.244.1.5", security_groups=OPEN)
    assert r2.reply is not None and r2.reply.disposition == "denied-in"
    assert any(s.stage == "vxlan decap" for s in r2.reply.hops)


def test_forward_policy_drop_on_the_node() -> None:
    drop = ACCEPT_ALL.replace(":FORWARD ACCEPT", ":FORWARD DROP")
    r = trace(overlay(node_ipt=drop), "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "policy DROP" in r.reason
    # flannel's FORWARD rules for the pod network fix it
    fixed = drop.replace("COMMIT", "-A FORWARD -s 10.244.0.0/16 -j ACCEPT\n-A FORWARD -d 10.244.0.0/16 -j ACCEPT\n"
                                   "COMMIT")
    assert trace(overlay(node_ipt=fixed), "master", "10.244.1.5", security_groups=OPEN).verdict == "reachable"


def test_vtep_on_the_wrong_nic_breaks_the_reply() -> None:
    snap = overlay(master_vtep="172.16.0.4", extra_master_links=["eth0 172.16.0.4/24"])
    snap.hosts[1].routes = [r for r in snap.hosts[1].routes if not r.is_default]
    r = trace(snap, "master", "10.244.1.5", security_groups=OPEN)
    assert r.verdict == "unreachable" and r.disposition == "no-route"
    assert r.reply is not None and "172.16.0.4" in r.reply.reason
    enc = next(s for s in r.hops if s.stage == "vxlan encap")
    assert "outer udp 172.16.0.4 -> 192.168.0.11:8472" in enc.detail


def test_wrong_vxlan_port_on_the_receiver() -> None:
    r = trace(overlay(node_port=4789), "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "no VXLAN device on node1 listens on udp 8472" in r.reason


def test_ip_forward_off_and_strict_rp_filter() -> None:
    r = trace(overlay(node_sysctl={"net.ipv4.ip_forward": "0"}), "master", "10.244.1.5", security_groups=OPEN)
    assert r.disposition == "denied-in" and "ip_forward = 0" in r.reason
    # strict rp_filter: the node's route back to the flannel source is flannel.1, so it passes ...
    ok = trace(overlay(node_sysctl={"net.ipv4.conf.all.rp_filter": "1"}), "master", "10.244.1.5",
               security_groups=OPEN)
    assert ok.verdict == "reachable"


def _two_nic_hosts(a_routes: list[str], a_sysctl: dict[str, str] | None = None) -> Snapshot:
    a = host("a", links=["eth0 10.0.0.1/24", "eth1 10.1.0.1/24"], routes=a_routes, iptables=ACCEPT_ALL,
             sysctl=a_sysctl)
    b = host("b", links=["eth0 10.0.0.2/24", "eth1 10.1.0.2/24"],
             routes=["10.0.0.0/24 dev eth0", "10.1.0.0/24 dev eth1", "10.9.0.0/24 via 10.0.0.1 dev eth0"],
             iptables=ACCEPT_ALL)
    return Snapshot(hosts=[a, b])


def test_strict_rp_filter_drops_asymmetric_arrivals() -> None:
    # b sends to a's eth1 address with source 10.0.0.2 out of eth1; a's best route back is eth0
    a = host("a", links=["eth0 10.0.0.1/24", "eth1 10.1.0.1/24"], routes=["10.0.0.0/24 dev eth0",
             "10.1.0.0/24 dev eth1"], iptables=ACCEPT_ALL, sysctl={"net.ipv4.conf.all.rp_filter": "1"})
    b = host("b", links=["eth0 10.0.0.2/24", "eth1 10.1.0.2/24"],
             routes=["10.1.0.1 dev eth1 src 10.0.0.2", "10.0.0.0/24 dev eth0", "10.1.0.0/24 dev eth1"],
             iptables=ACCEPT_ALL)
    r = trace(Snapshot(hosts=[a, b]), "b", "10.1.0.1", security_groups=OPEN)
    assert r.disposition == "denied-in" and "strict rp_filter" in r.reason and "leaves via eth0" in r.reason
    # loose mode only needs some route back
    a.sysctls["net.ipv4.conf.all.rp_filter"] = a.sysctls["net.ipv4.conf.all.rp_filter"].model_copy(
        update={"value": "2"})
    assert trace(Snapshot(hosts=[a, b]), "b", "10.1.0.1", security_groups=OPEN).verdict == "reachable"


def test_two_default_routes_fork_with_shares() -> None:
    a = host("a", links=["eth0 10.0.0.1/24", "eth2 10.175.100.5/22"],
             routes=["default via 10.175.100.1 dev eth2", "default via 10.0.0.2 dev eth0",
                     "10.0.0.0/24 dev eth0", "10.175.100.0/22 dev eth2"], iptables=ACCEPT_ALL)
    gw = host("gw", links=["eth0 10.0.0.2/24", "eth9 172.30.0.1/24"],
              routes=["10.0.0.0/24 dev eth0", "172.30.0.0/24 dev eth9"], iptables=ACCEPT_ALL)
    far = host("far", links=["eth0 172.30.0.9/24"],
               routes=["172.30.0.0/24 dev eth0", "default via 172.30.0.1 dev eth0"], iptables=ACCEPT_ALL)
    r = trace(Snapshot(hosts=[a, gw, far]), "a", "172.30.0.9", security_groups=OPEN)
    assert len(r.branches) == 2
    assert sorted(b.share for b in r.branches) == [0.5, 0.5]
    outcomes = sorted((b.verdict, b.disposition) for b in r.branches)
    # via the gateway nobody analysed, the request is assumed to reach far (an analysed host's own address),
    # whose reply then has no way back through gw: that half fails, with the assumption stated
    assert outcomes == [("reachable", "delivered"), ("unreachable", "no-route")]
    failing = next(b for b in r.branches if b.verdict == "unreachable")
    assert failing.assumptions == ["the network behind gateway 10.175.100.1 (not analysed) delivers 172.30.0.9 to "
                                   "far on eth0"]
    assert r.verdict == "unreachable" and "50%" in r.reason
    route_step = next(s for s in r.branches[0].hops if s.stage == "route")
    assert "2 equal default routes" in route_step.detail


def test_duplicate_connected_route_first_wins_and_tie_is_reported() -> None:
    snap = _two_nic_hosts(["10.0.0.0/24 dev eth0", "10.0.0.0/24 dev eth1", "10.1.0.0/24 dev eth1"])
    r = trace(snap, "a", "10.0.0.2", security_groups=OPEN)
    assert r.verdict == "reachable" and not r.branches
    route = next(s for s in r.hops if s.stage == "route")
    assert "dev eth0" in route.detail and "tie with 1 equal route" in route.detail
    assert len(route.consulted) == 2


def test_blackhole_unreachable_and_no_route() -> None:
    base = ["10.0.0.0/24 dev eth0", "10.1.0.0/24 dev eth1"]
    r = trace(_two_nic_hosts([*base, "blackhole 10.9.9.0/24"]), "a", "10.9.9.9", security_groups=OPEN)
    assert r.disposition == "null-routed" and r.hops[-1].consulted[0].line == 3
    r = trace(_two_nic_hosts([*base, "unreachable 10.9.9.0/24"]), "a", "10.9.9.9", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "no-route")
    r = trace(_two_nic_hosts(base), "a", "10.9.9.9", security_groups=OPEN)
    assert r.disposition == "no-route"


def test_policy_rules_select_tables_and_longest_prefix() -> None:
    routes = ["10.0.0.0/24 dev eth0", "10.1.0.0/24 dev eth1", "10.0.0.0/16 dev eth1",
              "10.0.0.2 dev eth1 table 100"]
    rules = ["0: from all lookup local", "100: to 10.0.0.2 lookup 100", "32766: from all lookup main"]
    a = host("a", links=["eth0 10.0.0.1/24", "eth1 10.1.0.1/24"], routes=routes, rules=rules, iptables=ACCEPT_ALL)
    b = host("b", links=["eth0 10.0.0.2/24"], routes=["10.0.0.0/24 dev eth0"], iptables=ACCEPT_ALL)
    eng = TraceEngine(Snapshot(hosts=[a, b]), OPEN)
    route = next(s for s in eng.trace("a", "10.0.0.2").hops if s.stage == "route")
    assert "table 100" in route.detail and "dev eth1" in route.detail
    assert route.consulted[0].file == "routes/ip-rule"
    route = next(s for s in eng.trace("a", "10.0.0.3").hops if s.stage == "route")
    assert "10.0.0.0/24" in route.detail and "dev eth0" in route.detail


def test_multipath_route_forks_by_weight() -> None:
    routes = ["10.0.0.0/24 dev eth0", "10.1.0.0/24 dev eth1",
              "10.9.0.0/24 nexthop via 10.0.0.2 dev eth0 weight 3 nexthop via 10.1.0.2 dev eth1 weight 1"]
    snap = _two_nic_hosts(routes)
    snap.hosts[1].routes = snap.hosts[1].routes[:2]  # b has no route onwards: both legs end there
    r = trace(snap, "a", "10.9.0.1", security_groups=OPEN)
    assert sorted(b.share for b in r.branches) == [0.25, 0.75]
    assert {next(s.detail for s in b.hops if s.stage == "route").split(" dev ")[1][:4] for b in r.branches} == {
        "eth0", "eth1"}


MARK_AND_CHAINS = """*mangle
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.0.0.2/32 -j MARK --set-xmark 0x10/0xff
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT DROP [0:0]
:CHECKS - [0:0]
:MORE - [0:0]
-A OUTPUT -j CHECKS
-A OUTPUT -m mark --mark 0x10/0xff -j ACCEPT
-A CHECKS -p tcp -g MORE
-A CHECKS -p icmp -j RETURN
-A CHECKS -j DROP
-A MORE -p tcp --dport 80 -j RETURN
-A MORE -j REJECT --reject-with tcp-reset
COMMIT
"""


def _one_pair(ipt: str) -> Snapshot:
    a = host("a", links=["eth0 10.0.0.1/24"], routes=["10.0.0.0/24 dev eth0"], iptables=ipt)
    b = host("b", links=["eth0 10.0.0.2/24"], routes=["10.0.0.0/24 dev eth0"], iptables=ACCEPT_ALL)
    return Snapshot(hosts=[a, b])


def test_user_chains_return_goto_and_marks() -> None:
    eng = TraceEngine(_one_pair(MARK_AND_CHAINS), OPEN)
    # icmp: CHECKS returns, then the mark set in mangle OUTPUT is accepted
    assert eng.trace("a", "10.0.0.2").verdict == "reachable"
    # tcp 80: goto MORE; RETURN there returns to OUTPUT (not to CHECKS, which would DROP)
    assert eng.trace("a", "10.0.0.2", "tcp", 80).verdict == "reachable"
    r = eng.trace("a", "10.0.0.2", "tcp", 81)
    assert r.disposition == "denied-out" and "tcp-reset" in r.reason
    # the mark only applies to 10.0.0.2: to .3 the policy drops
    r = eng.trace("a", "10.0.0.3")
    assert r.disposition == "denied-out" and "policy DROP" in r.reason


DNAT = """*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-X - [0:0]
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j KUBE-SVC-X
-A KUBE-SVC-X -m statistic --mode random --probability 0.25000000000 -j DNAT --to-destination 10.0.0.2:5353
-A KUBE-SVC-X -j DNAT --to-destination 10.0.0.99:5353
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
"""


def test_dnat_statistic_branches_and_reverse_nat_on_reply() -> None:
    snap = _one_pair(DNAT)
    with_default = host("x", links=[], routes=["10.0.0.0/24 dev eth0", "default via 10.0.0.254 dev eth0"])
    snap.hosts[0].routes = with_default.routes
    r = trace(snap, "a", "10.96.0.10", "tcp", 53, security_groups=OPEN)
    assert sorted(b.share for b in r.branches) == [0.25, 0.75]
    good = next(b for b in r.branches if b.share == 0.25)
    assert good.verdict == "reachable"
    assert any(s.action == "nat" and "10.0.0.2:5353" in s.detail for s in good.hops)
    assert good.reply is not None and any("reverse DNAT" in s.detail for s in good.reply.hops)
    bad = next(b for b in r.branches if b.share == 0.75)
    assert bad.verdict != "reachable"
    assert r.verdict == "unknown" and "25%" in r.reason


def test_unknown_matches_are_never_a_silent_yes() -> None:
    ipt = ACCEPT_ALL.replace("COMMIT", "-A OUTPUT -m set --match-set blocked dst -j DROP\nCOMMIT")
    r = trace(_one_pair(ipt), "a", "10.0.0.2", security_groups=OPEN)
    assert r.verdict == "unknown" and "ipset blocked is not in the bundle" in r.reason
    step = next(s for s in r.hops if s.action == "unknown")
    assert step.consulted[0].line == 5
    # a may-drop followed by a certain drop is certainly unreachable
    ipt2 = ACCEPT_ALL.replace(":OUTPUT ACCEPT", ":OUTPUT DROP").replace(
        "COMMIT", "-A OUTPUT -m physdev --physdev-is-bridged -j DROP\nCOMMIT")
    r2 = trace(_one_pair(ipt2), "a", "10.0.0.2", security_groups=OPEN)
    assert (r2.verdict, r2.disposition) == ("unreachable", "denied-out")
    # a may-accept before a drop is unknown
    ipt3 = ipt2.replace("-j DROP\nCOMMIT", "-j ACCEPT\nCOMMIT")
    r3 = trace(_one_pair(ipt3), "a", "10.0.0.2", security_groups=OPEN)
    assert r3.verdict == "unknown" and "physdev" in r3.reason


def test_missing_iptables_is_unknown() -> None:
    a = host("a", links=["eth0 10.0.0.1/24"], routes=["10.0.0.0/24 dev eth0"])
    b = host("b", links=["eth0 10.0.0.2/24"], routes=["10.0.0.0/24 dev eth0"], iptables=ACCEPT_ALL)
    r = trace(Snapshot(hosts=[a, b]), "a", "10.0.0.2", security_groups=OPEN)
    assert r.verdict == "unknown" and "the packet filter was not collected" in r.reason


def test_mtu_checks() -> None:
    assert trace(overlay(), "master", "10.244.1.5", size=1428, security_groups=OPEN).verdict == "reachable"
    r = trace(overlay(), "master", "10.244.1.5", size=1480, security_groups=OPEN)
    assert r.disposition == "mtu-exceeded" and "mtu 1450 of flannel.1" in r.reason
    snap = overlay()
    snap.hosts[1].interfaces["eth1"].mtu = 1400
    r = trace(snap, "master", "10.244.1.5", size=1428, security_groups=OPEN)
    assert r.disposition == "mtu-exceeded" and "larger than mtu 1400 of eth1 on node1" in r.reason


def test_neighbour_missing_on_vxlan() -> None:
    # the neighbour table was collected and lacks the peer's entry, with flannel >= 0.9's `via P.0 onlink`
    # route (entries are programmed, never learnt): the kernel cannot encapsulate
    snap = overlay()
    snap.hosts[0].neighbours = []
    r = trace(snap, "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "neighbour-unreachable")
    assert "no usable neighbour entry for 10.244.1.0 on flannel.1" in r.reason
    snap = overlay()
    snap.hosts[0].fdb = []
    assert "no fdb entry" in trace(snap, "master", "10.244.1.5", security_groups=OPEN).reason


def test_not_collected_is_not_empty() -> None:
    # neither `ip neigh` nor `bridge fdb` in the bundle: the peer's bundle says what flannel programs there
    snap = overlay()
    snap.hosts[0].neighbours, snap.hosts[0].fdb = [], []
    del snap.hosts[0].sources["ip_neigh"], snap.hosts[0].sources["bridge_fdb"]
    r = trace(snap, "master", "10.244.1.5", security_groups=OPEN)
    assert r.verdict == "reachable"
    assert r.assumptions == [
        "master: the neighbour table was not collected; flannel programs 10.244.1.0 with node1's VTEP MAC before "
        "its onlink route (0a:00:00:00:00:02)",
        "master: bridge fdb was not collected; flannel programs 0a:00:00:00:00:02 dst 192.168.0.11 (node1's VTEP)",
    ]
    # ... and without the peer's bundle nothing decides it: unknown, saying what would
    alone = Snapshot(hosts=[snap.hosts[0]])
    r = trace(alone, "master", "10.244.1.5", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unknown", "insufficient-info")
    assert "the neighbour table was not collected" in r.reason and "ip neigh show dev flannel.1" in r.reason


def test_l3_miss_mode_is_answered_by_flanneld() -> None:
    # flannel < 0.9: one route for the whole network without a gateway; flanneld answers L3 misses
    snap = overlay(master_routes=["default via 192.168.0.1 dev eth1", "192.168.0.0/24 dev eth1 proto kernel",
                                  "10.244.0.0/24 dev cni0 proto kernel", "10.244.0.0/16 dev flannel.1"])
    snap.hosts[0].neighbours = []
    r = trace(snap, "master", "10.244.1.5", security_groups=OPEN)
    assert r.verdict == "reachable"
    assert any("flanneld answers the L3 miss with node1's VTEP MAC" in a for a in r.assumptions)


def test_routing_loop() -> None:
    a = host("a", links=["eth0 10.0.0.1/24"], routes=["10.0.0.0/24 dev eth0", "10.8.0.0/16 via 10.0.0.2 dev eth0"],
             iptables=ACCEPT_ALL)
    b = host("b", links=["eth0 10.0.0.2/24"], routes=["10.0.0.0/24 dev eth0", "10.8.0.0/16 via 10.0.0.1 dev eth0"],
             iptables=ACCEPT_ALL)
    r = trace(Snapshot(hosts=[a, b]), "a", "10.8.1.1", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "loop")


def test_masquerade_and_reverse_snat() -> None:
    ipt = ("*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE\n"
           "COMMIT\n" + ACCEPT_ALL)
    pod_host = host("a", links=["eth0 10.0.0.1/24", "cni0 10.244.0.1/24 bridge"],
                    routes=["10.0.0.0/24 dev eth0", "10.244.0.0/24 dev cni0"], iptables=ipt)
    b = host("b", links=["eth0 10.0.0.2/24"], routes=["10.0.0.0/24 dev eth0"], iptables=ACCEPT_ALL)
    eng = TraceEngine(Snapshot(hosts=[pod_host, b]), OPEN)
    r = eng.trace("a", "10.0.0.2")
    assert r.verdict == "reachable"  # from the host itself, not masqueraded
    assert not any(s.action == "nat" for s in r.hops)


def test_udp_has_no_reply_and_port_is_required() -> None:
    eng = TraceEngine(overlay(), OPEN)
    r = eng.trace("master", "10.244.1.5", "udp", 53)
    assert r.verdict == "reachable" and r.reply is None
    with pytest.raises(TraceError, match="--port is required"):
        eng.trace("master", "10.244.1.5", "tcp")
    with pytest.raises(TraceError, match="not in the snapshot"):
        eng.trace("ghost", "10.244.1.5")
    with pytest.raises(TraceError, match="not an IP"):
        eng.trace("master", "10.244.1")


def test_source_host_by_ip_and_local_delivery() -> None:
    eng = TraceEngine(overlay(), OPEN)
    r = eng.trace("192.168.0.10", "192.168.0.11")
    assert r.src_host == "master" and r.verdict == "reachable"
    local = eng.trace("master", "10.244.0.1")
    assert local.verdict == "reachable" and local.hops[-1].stage == "deliver"


def test_engine_reuse_gives_the_same_answers_as_one_shot() -> None:
    snap = overlay(node_ipt=REJECT_END)
    eng = TraceEngine(snap, OPEN)
    for dst in ("10.244.1.5", "192.168.0.11", "10.244.0.7", "8.8.8.8"):
        assert eng.trace("master", dst).model_dump() == trace(snap, "master", dst, security_groups=OPEN).model_dump()


def test_empty_iptables_save_means_no_rules() -> None:
    from netsnap.model import SourceState, SourceStatus

    a = host("a", links=["eth0 10.0.0.1/24"], routes=["10.0.0.0/24 dev eth0"])
    b = host("b", links=["eth0 10.0.0.2/24"], routes=["10.0.0.0/24 dev eth0"], iptables=ACCEPT_ALL)
    a.sources["iptables_save"] = SourceStatus(source="iptables_save", state=SourceState.EMPTY, exit_code=0)
    assert trace(Snapshot(hosts=[a, b]), "a", "10.0.0.2", security_groups=OPEN).verdict == "reachable"
    a.sources["iptables_save"] = SourceStatus(source="iptables_save", state=SourceState.FAILED, exit_code=1)
    assert trace(Snapshot(hosts=[a, b]), "a", "10.0.0.2", security_groups=OPEN).verdict == "unknown"


def test_packet_copies_check_field_names() -> None:
    from ipaddress import ip_address

    from netsnap.trace.packet import Packet

    p = Packet(src=None, dst=ip_address("10.0.0.1"))
    q = p.with_(dport=80)
    assert (p.dport, q.dport, q.dst) == (None, 80, p.dst)
    with pytest.raises(TypeError, match="no field colour"):
        p.with_(colour="red")


def test_hostile_rulesets_do_not_hang_or_raise() -> None:
    loop = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n"
            "-A OUTPUT -j A\n-A A -j B\n-A B -j A\n"
            "-A OUTPUT -m statistic --mode random --probability 7 -j ACCEPT\n"
            "-A OUTPUT -j DNAT --to-destination not-an-ip\nCOMMIT\n")
    r = trace(_one_pair(loop), "a", "10.0.0.2", security_groups=OPEN)
    assert r.verdict == "unknown" and "jump loop: A is already being walked" in r.reason
    assert all(0.0 <= b.share <= 1.0 for b in r.branches)


def test_many_statistic_rules_are_capped_and_logging_rules_do_not_fork() -> None:
    logs = ACCEPT_ALL.replace("COMMIT", "-A OUTPUT -m statistic --mode random --probability 0.5 -j LOG\nCOMMIT")
    assert not trace(_one_pair(logs), "a", "10.0.0.2", security_groups=OPEN).branches
    rules = "".join("-A OUTPUT -m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x1/0x1\n"
                    for _ in range(10))
    ipt = ACCEPT_ALL.replace("COMMIT", rules + "COMMIT")
    r = trace(_one_pair(ipt), "a", "10.0.0.2", security_groups=OPEN)
    assert len(r.branches) == 64 and "only the first 64 branches" in r.reason


def test_a_reply_that_certainly_fails_decides_an_undecided_request() -> None:
    # no security-group exports (the request is only possibly delivered), and the master rejects the
    # returning VXLAN packets: whatever the cloud does, the ping fails
    r = trace(overlay(master_ipt=REJECT_END), "master", "10.244.1.5")
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert r.reason.startswith("the reply fails: master INPUT")
    # an undecided reply after a certain request is undecided
    r2 = trace(overlay(), "master", "10.244.1.5", security_groups=SecurityGroups(attached={
        "master": [load_file(str(FIX / "openstack-rule-list.json"))]}))
    assert r2.verdict == "unknown"


def test_a_named_gateway_is_an_unknown_next_hop() -> None:
    # `route` without -n: the default route's gateway is a name whose address the paste does not hold
    snap = overlay()
    master = snap.hosts[0]
    default = next(r for r in master.routes if r.is_default)
    named = default.model_copy(update={"gateway": None, "flags": "UG",
                                       "extra": {"gateway": "_gateway", "gateway_address": "unknown"}})
    master.routes[master.routes.index(default)] = named
    r = trace(snap, "master", "8.8.8.8", security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unknown", "insufficient-info")
    assert "via gateway '_gateway': its address is not in the bundle" in r.reason
