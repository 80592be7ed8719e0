"""The engine's memos and fast paths answer exactly as a fresh engine does: a reused engine (route
decisions, VXLAN plans, chain candidates all warm) must give the same results as one-shot traces."""

from __future__ import annotations

from netsnap.model import Snapshot
from netsnap.model.evidence import Evidence
from netsnap.model.iptables import Chain
from netsnap.secgroups import SecurityGroups
from netsnap.trace.engine import TraceEngine, trace
from netsnap.trace.index import ChainIndex
from netsnap.trace.result import Step, make_step
from tests.trace.builders import overlay, parse_iptables_save

OPEN = SecurityGroups(default="open")

CHAIN = """*filter
:FORWARD DROP [0:0]
:CHECK - [0:0]
-A FORWARD -j LOG --log-prefix x
-A FORWARD -s 10.244.0.0/16 -j CHECK
-A FORWARD -p icmp -j ACCEPT
-A FORWARD -d 10.244.1.0/24 -j ACCEPT
-A FORWARD -s 10.244.0.7/32 -j DROP
-A FORWARD ! -d 10.9.0.0/16 -j ACCEPT
-A FORWARD -m comment --comment count-only
-A CHECK -d 10.244.1.9/32 -j DROP
COMMIT
"""

QUERIES = [
    ("master", "10.244.1.5", "icmp", None),
    ("master", "10.244.1.6", "tcp", 80),
    ("node1", "10.244.0.5", "icmp", None),
    ("node1", "10.244.0.9", "tcp", 443),
    ("master", "192.168.0.11", "icmp", None),
    ("master", "8.8.8.8", "udp", 53),
    ("node1", "10.244.1.1", "icmp", None),
]


def _forward_chain() -> Chain:
    return parse_iptables_save(CHAIN).tables["filter"].chains["FORWARD"]


def test_candidates_keep_chain_order_and_leave_out_rules_that_decide_nothing() -> None:
    ci = ChainIndex(_forward_chain())
    from ipaddress import ip_address

    # positions: 0 LOG, 1 -s 10.244/16, 2 -p icmp, 3 -d 10.244.1/24, 4 -s 10.244.0.7, 5 ! -d, 6 no target
    assert ci.candidates(ip_address("10.244.0.7"), ip_address("10.244.1.5")) == [1, 2, 3, 4, 5]
    assert ci.candidates(ip_address("10.244.0.8"), ip_address("10.244.1.5")) == [1, 2, 3, 5]
    assert ci.candidates(ip_address("172.16.0.1"), ip_address("10.244.1.5")) == [2, 3, 5]
    assert ci.candidates(ip_address("172.16.0.1"), ip_address("8.8.8.8")) == [2, 5]
    assert ci.candidates(None, ip_address("8.8.8.8")) == [2, 5]
    assert ci.policy_detail == "no rule decided; chain FORWARD policy DROP"


def test_a_reused_engine_answers_like_one_shot_traces() -> None:
    snap = overlay(node_ipt=CHAIN.replace("COMMIT", "-A FORWARD -j ACCEPT\nCOMMIT"))
    eng = TraceEngine(snap, OPEN)
    for _ in range(3):  # the second and third rounds run on warm memos
        for src, dst, proto, port in QUERIES:
            got = eng.trace(src, dst, proto, port).model_dump()
            assert got == trace(snap, src, dst, proto, port, security_groups=OPEN).model_dump(), (src, dst, proto)


def test_an_assumption_is_reported_on_every_trace_not_only_the_first() -> None:
    # the master's neighbour table was not collected: the encapsulation assumes flannel's entry for the owner's
    # VTEP; the plan is never memoised as certain, so every trace states the assumption
    snap = overlay()
    snap.hosts[0].neighbours = []
    del snap.hosts[0].sources["ip_neigh"]
    eng = TraceEngine(snap, OPEN)
    for _ in range(3):
        r = eng.trace("master", "10.244.1.5")
        assert r.verdict == "reachable"
        assert any("the neighbour table was not collected" in a for a in r.assumptions)


def test_a_route_decision_shared_by_many_destinations_names_each_its_own_trace() -> None:
    snap: Snapshot = overlay()
    eng = TraceEngine(snap, OPEN)
    first = eng.trace("master", "10.244.1.5")
    second = eng.trace("master", "10.244.1.77")
    assert first.verdict == second.verdict == "reachable"
    assert second.dst_ip == "10.244.1.77" and any("10.244.1.77" in s.detail for s in second.hops)
    assert [s.stage for s in first.hops] == [s.stage for s in second.hops]


def test_fast_steps_equal_validated_steps() -> None:
    consulted: list[Evidence] = []
    fast = make_step("h", "route", "forward", "d", consulted)
    slow = Step(host="h", stage="route", action="forward", detail="d", consulted=[], check="", packet=None)
    assert fast == slow and fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.consulted is not consulted  # copied, as validation copies
