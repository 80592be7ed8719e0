"""The nftables view in the one netfilter walk (netsnap.trace.nft via VIEW_BUILDERS), on hand-built
hosts (tests/trace/builders.py) carrying rulesets real nft 1.0.6 and firewalld 1.3.3 printed
(tests/parsers/fixtures/nft_*), or small rulesets given as nft text."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path
from typing import Literal

import pytest

from netsnap.model import Host, Snapshot
from netsnap.model.firewalld import FirewalldState
from netsnap.model.nftables import NftRuleset
from netsnap.parsers import nft_json, nft_text
from netsnap.secgroups import SecurityGroups
from netsnap.trace.engine import TraceEngine, trace
from netsnap.trace.index import HostIndex
from netsnap.trace.netfilter import Netfilter
from netsnap.trace.nft import firewalld_zone, nft_base_chains
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run
from tests.trace.builders import ACCEPT_ALL, overlay

OPEN = SecurityGroups(default="open")
FIX = Path(__file__).resolve().parents[1] / "parsers" / "fixtures"
POD1 = "10.244.1.5"
CLUSTER = (FIX / "nft_text" / "firewalld-1.3.3-cluster-a.in").read_text()
DEFAULT = (FIX / "nft_text" / "firewalld-1.3.3-default-plain.in").read_text()


def ruleset(text: str, file: str = "firewall/nft-list-ruleset") -> NftRuleset:
    result = nft_text.parse(text, file)
    assert result.unparsed == [], result.unparsed
    return result.items[0]


def with_nft(snap: Snapshot, host: str, rs: NftRuleset | None, *, keep_iptables: bool = False,
             **extra: object) -> Snapshot:
    hosts = []
    for h in snap.hosts:
        if h.name == host:
            update: dict[str, object] = {"nftables": rs, **extra}
            if not keep_iptables:
                update["iptables"] = {}
            h = h.model_copy(update=update)
        hosts.append(h)
    return Snapshot(hosts=hosts)


def without(text: str, *fragments: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(ln for ln in lines if not any(f in ln for f in fragments))


def test_firewalld_default_zone_rejects_the_vxlan_packets() -> None:
    snap = with_nft(overlay(), "node1", ruleset(DEFAULT))
    r = trace(snap, "master", POD1, security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "node1 INPUT: rejected (icmpx admin-prohibited)" in r.reason
    assert "inet firewalld filter_IN_public" in r.reason and "zone public" in r.reason
    deny = next(s for s in r.hops if s.stage == "INPUT inet firewalld filter_INPUT")
    assert deny.action == "deny"
    ev = deny.consulted[-1]
    assert ev.file == "firewall/nft-list-ruleset" and ev.text == "reject with icmpx admin-prohibited"
    assert DEFAULT.splitlines()[ev.line - 1].strip() == ev.text
    assert trace(snap, "master", "192.168.0.11", "tcp", 22, security_groups=OPEN).verdict == "reachable"


def test_decider_names_view_table_chain_handle_and_zone() -> None:
    snap = with_nft(overlay(), "node1", ruleset(CLUSTER))
    hidx = HostIndex.build(snap.hosts[1])
    nf = Netfilter(hidx)
    pkt = Packet(src=None, dst=hidx_ip("192.168.0.11"), proto="tcp", sport=40000, dport=23, iif="eth1")
    pkt = pkt.with_(src=hidx_ip("192.168.0.10"))
    res = nf.hook(Run(preset=[]), "INPUT", pkt, lambda p: None)
    assert res.verdict == "REJECT" and res.reject_with == "icmpx admin-prohibited"
    d = res.decider
    assert d is not None
    assert (d.view, d.table, d.chain, d.position, d.zone) == ("firewalld", "inet firewalld", "filter_IN_public", 72,
                                                               "public")
    assert d.text == "reject with icmpx admin-prohibited # handle 72"


def hidx_ip(text: str) -> IPv4Address:
    return IPv4Address(text)


def test_firewalld_cluster_config_passes_and_still_rejects_other_ports() -> None:
    snap = with_nft(overlay(), "node1", ruleset(CLUSTER))
    eng = TraceEngine(snap, OPEN)
    ok = eng.trace("master", POD1)
    assert ok.verdict == "reachable", ok.reason
    steps = {s.stage: s for s in ok.hops if s.host == "node1"}
    assert "filter_IN_public_allow handle 254" in steps["INPUT inet firewalld filter_INPUT"].detail  # 8472/udp
    assert "filter_FWD_trusted" in steps["FORWARD inet firewalld filter_FORWARD"].detail  # the pod network
    assert eng.trace("master", "192.168.0.11", "udp", 8472).verdict == "reachable"
    bad = eng.trace("master", "192.168.0.11", "tcp", 23)
    assert bad.verdict == "unreachable" and "zone public" in bad.reason


def test_forwarded_overlay_traffic_rejected_without_the_trusted_source() -> None:
    rs = ruleset(without(CLUSTER, "goto filter_FWD_trusted"))
    r = trace(with_nft(overlay(), "node1", rs), "master", POD1, security_groups=OPEN)
    assert (r.verdict, r.disposition) == ("unreachable", "denied-in")
    assert "node1 FORWARD" in r.reason and "filter_FWD_public" in r.reason and "zone public" in r.reason


def test_accept_ends_only_its_base_chain_and_drop_anywhere_drops() -> None:
    # iptables accepts everything; firewalld (priority filter + 10, after iptables' filter 0) rejects
    snap = with_nft(overlay(), "node1", ruleset(DEFAULT), keep_iptables=True)
    r = trace(snap, "master", POD1, security_groups=OPEN)
    assert r.verdict == "unreachable" and "filter_IN_public" in r.reason
    plan = Netfilter(HostIndex.build(snap.hosts[1])).plan["INPUT"]
    assert [(c.view, c.priority) for c in plan] == [("iptables", 0), ("firewalld", 10)]
    # nftables accepts; iptables rejects
    reject = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
              "-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n")
    snap2 = with_nft(overlay(node_ipt=reject), "node1", ruleset(CLUSTER), keep_iptables=True)
    r2 = trace(snap2, "master", POD1, security_groups=OPEN)
    assert r2.verdict == "unreachable" and "icmp-host-prohibited" in r2.reason


COMPAT = """table ip filter {
\tchain INPUT {
\t\ttype filter hook input priority filter; policy accept;
\t\tudp dport 8472 counter packets 0 bytes 0 drop
\t}
}
"""


def test_iptables_nft_tables_are_not_evaluated_twice() -> None:
    rs = ruleset(COMPAT)
    assert rs.tables["ip filter"].compat
    covered = with_nft(overlay(), "node1", rs, keep_iptables=True)  # the iptables view shows them (ACCEPT_ALL)
    hidx = HostIndex.build(covered.hosts[1])
    assert nft_base_chains(hidx) == []
    assert trace(covered, "master", POD1, security_groups=OPEN).verdict == "reachable"
    alone = with_nft(overlay(), "node1", rs)  # no iptables dump: the nft dump is the only view of them
    r = trace(alone, "master", POD1, security_groups=OPEN)
    assert r.verdict == "unreachable" and "iptables-nft" in r.reason


def test_kube_proxy_numgen_forks_one_branch_per_endpoint() -> None:
    rs = ruleset((FIX / "nft_text" / "kube-proxy-like-nft-1.0.6-a.in").read_text())
    snap = with_nft(overlay(), "master", rs, keep_iptables=True)
    r = trace(snap, "master", "10.96.0.10", "udp", 53, security_groups=OPEN)
    assert len(r.branches) == 2
    assert sorted(b.share for b in r.branches) == [0.5, 0.5]
    nat = [s.detail for b in r.branches for s in b.hops if s.action == "nat"]
    assert any("10.244.1.5" in d for d in nat) and any("10.244.0.5" in d for d in nat)
    api = trace(snap, "master", "10.96.0.1", "tcp", 443, security_groups=OPEN)
    assert any("192.168.0.10:6443" in s.detail for s in api.hops if s.action == "nat")


SETS = """table inet filter {
\tset allowed_nets {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 10.244.0.0/16, 172.16.0.1-172.16.0.9,
\t\t\t     192.168.0.0/24 }
\t}
\tset svc {
\t\ttype ipv4_addr . inet_proto . inet_service
\t\telements = { 192.168.0.11 . tcp . 443 }
\t}
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tct state vmap { invalid : drop, established : accept, related : accept }
\t\tip saddr @allowed_nets udp dport 8472 accept
\t\tip daddr . meta l4proto . th dport @svc accept
\t\ttcp dport { 22, 1000-2000 } accept
\t\ticmp type echo-request limit rate 5/second accept
\t}
}
"""


@pytest.mark.parametrize(("proto", "port", "verdict"), [
    ("udp", 8472, "reachable"),  # named interval set
    ("tcp", 443, "reachable"),  # concatenated set
    ("tcp", 1500, "reachable"),  # anonymous range
    ("tcp", 2001, "unreachable"),  # policy drop
    ("icmp", None, "unknown"),  # limit rate: undecidable, and the policy would drop
])
def test_sets_ranges_concatenations_and_limits(proto: Literal["icmp", "tcp", "udp"], port: int | None,
                                               verdict: str) -> None:
    snap = with_nft(overlay(), "node1", ruleset(SETS))
    r = trace(snap, "master", "192.168.0.11", proto, port, security_groups=OPEN)
    assert r.verdict == verdict, r.reason
    if verdict == "unknown":
        assert "limit rate 5/second" in r.reason


def test_a_source_outside_the_set_is_dropped() -> None:
    rs = ruleset(SETS.replace("192.168.0.0/24 }", "192.168.7.0/24 }"))
    r = trace(with_nft(overlay(), "node1", rs), "master", "192.168.0.11", "udp", 8472, security_groups=OPEN)
    assert r.verdict == "unreachable" and "policy drop" in r.reason


def test_unknown_expression_makes_the_verdict_unknown_and_quotes_it() -> None:
    text = """table inet t {
\tchain input {
\t\ttype filter hook input priority 0; policy accept;
\t\tsocket transparent 1 udp dport 8472 drop
\t}
}
"""
    r = trace(with_nft(overlay(), "node1", ruleset(text)), "master", POD1, security_groups=OPEN)
    assert r.verdict == "unknown" and "`socket transparent 1`" in r.reason and "target DROP" in r.reason


def test_ct_status_dnat_and_marks() -> None:
    text = """table ip nat {
\tchain pre {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tip daddr 192.168.0.11 tcp dport 8080 dnat to 10.244.1.5:80
\t}
}
table inet f {
\tchain fwd {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t\tct status dnat accept
\t}
\tchain out {
\t\ttype filter hook output priority filter; policy accept;
\t\tmeta mark set 0x00004000
\t\tmeta mark & 0x00004000 == 0x00004000 tcp dport 9 reject with tcp reset
\t}
}
"""
    snap = with_nft(overlay(), "node1", ruleset(text))
    r = trace(snap, "master", "192.168.0.11", "tcp", 8080, security_groups=OPEN)
    assert r.verdict == "reachable", r.reason
    assert any(s.action == "nat" and "10.244.1.5:80" in s.detail for s in r.hops)
    assert trace(snap, "master", POD1, security_groups=OPEN).verdict == "unreachable"  # no DNAT: policy drop
    back = trace(snap, "node1", "192.168.0.10", "tcp", 9, security_groups=OPEN)
    assert back.verdict == "unreachable" and "tcp reset" in back.reason


NETDEV = """table netdev edge {
\tchain ingress {
\t\ttype filter hook ingress device "eth1" priority -500; policy accept;
\t\tudp dport 8472 drop
\t}
}
"""


def test_netdev_ingress_runs_first_on_its_device_only() -> None:
    r = trace(with_nft(overlay(), "node1", ruleset(NETDEV)), "master", POD1, security_groups=OPEN)
    assert r.verdict == "unreachable" and "PREROUTING netdev edge ingress" in " ".join(s.stage for s in r.hops)
    other = ruleset(NETDEV.replace('"eth1"', '"eth9"'))
    assert trace(with_nft(overlay(), "node1", other), "master", POD1, security_groups=OPEN).verdict == "reachable"
    # nft's JSON does not list the device: then the drop is only possible, not certain
    doc = nft_json.parse('{"nftables": [{"table": {"family": "netdev", "name": "edge", "handle": 1}}, '
                         '{"chain": {"family": "netdev", "table": "edge", "name": "ingress", "handle": 1, '
                         '"type": "filter", "hook": "ingress", "prio": -500, "policy": "accept"}}, '
                         '{"rule": {"family": "netdev", "table": "edge", "chain": "ingress", "handle": 2, "expr": '
                         '[{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, '
                         '"right": 8472}}, {"drop": null}]}}]}', "firewall/nft-ruleset.json").items[0]
    r2 = trace(with_nft(overlay(), "node1", doc), "master", POD1, security_groups=OPEN)
    assert r2.verdict == "unknown" and "device is not in the dump" in r2.reason


def test_ip6_and_arp_tables_never_see_ipv4() -> None:
    text = """table ip6 six {
\tchain in_chain {
\t\ttype filter hook input priority filter; policy drop;
\t}
}
table arp a {
\tchain in_chain {
\t\ttype filter hook input priority filter; policy drop;
\t}
}
table inet mixed {
\tchain in_chain {
\t\ttype filter hook input priority filter; policy accept;
\t\tmeta nfproto ipv6 drop
\t\tip6 saddr ::/0 drop
\t\ticmpv6 type echo-request drop
\t}
}
"""
    snap = with_nft(overlay(), "node1", ruleset(text))
    assert [c.stage for c in nft_base_chains(HostIndex.build(snap.hosts[1]))] == ["INPUT inet mixed in_chain"]
    assert trace(snap, "master", POD1, security_groups=OPEN).verdict == "reachable"


def test_missing_nft_dump_on_a_firewalld_host_is_unknown_not_clean() -> None:
    node: Host = overlay().hosts[1]
    fw = FirewalldState(running=True, backend="nftables", file="firewall/firewalld-state")
    snap = with_nft(overlay(), "node1", None, firewalld=fw, keep_iptables=True)
    assert node.nftables is None
    r = trace(snap, "master", POD1, security_groups=OPEN)
    assert r.verdict == "unknown" and "firewalld is running with FirewallBackend=nftables" in r.reason
    off = with_nft(overlay(), "node1", None, firewalld=FirewalldState(running=False), keep_iptables=True)
    assert trace(off, "master", POD1, security_groups=OPEN).verdict == "reachable"
    assert ACCEPT_ALL  # the iptables view of the builders accepts everything


@pytest.mark.parametrize(("chain", "zone"), [
    ("filter_IN_public_allow", "public"), ("filter_IN_public", "public"), ("filter_FWD_trusted_post", "trusted"),
    ("nat_POST_public_allow", "public"), ("filter_FWDI_internal_deny", "internal"), ("filter_FWDO_dmz", "dmz"),
    ("filter_INPUT_ZONES", None), ("filter_INPUT", None), ("filter_IN_policy_allow-host-ipv6_allow", None),
    ("filter_IN_my_zone_allow", "my_zone"), ("mangle_PRE_work", "work"),
])
def test_firewalld_zone_from_chain_names(chain: str, zone: str | None) -> None:
    assert firewalld_zone(chain) == zone
