"""`-m set --match-set` is decided from the captured `ipset save` (hash:ip / hash:net)."""

from __future__ import annotations

from ipaddress import ip_address

from netsnap.model.iptables import IptRule
from netsnap.parsers.ipset import parse as parse_ipset
from netsnap.parsers.iptables_save import parse as parse_iptables
from netsnap.trace.matching import RuleMatcher
from netsnap.trace.packet import Packet

RULES = """*filter
:INPUT ACCEPT [0:0]
-A INPUT -m set --match-set blocked src -j DROP
-A INPUT -m set ! --match-set allowed-nets dst -j REJECT
-A INPUT -m set --match-set ports src,dst -j DROP
-A INPUT -m set --match-set absent src -j DROP
COMMIT
"""
SETS = """create blocked hash:ip family inet hashsize 1024 maxelem 65536
add blocked 10.0.0.9
create allowed-nets hash:net family inet hashsize 1024 maxelem 65536
add allowed-nets 192.168.0.0/24
create ports hash:ip,port family inet hashsize 1024 maxelem 65536
add ports 10.0.0.9,udp:8472
"""


def _rules() -> list[IptRule]:
    ruleset = parse_iptables(RULES, "firewall/iptables-save").items[0]
    return ruleset.tables["filter"].chains["INPUT"].rules


def test_set_membership_decides_the_match() -> None:
    sets = {s.name: s for s in parse_ipset(SETS, "firewall/ipset-save").items}
    matcher = RuleMatcher(set(), sets)
    blocked, not_allowed, ports, absent = _rules()
    from_bad = Packet(src=ip_address("10.0.0.9"), dst=ip_address("192.168.0.15"))
    from_ok = Packet(src=ip_address("10.0.0.8"), dst=ip_address("192.168.0.15"))
    to_elsewhere = Packet(src=ip_address("10.0.0.8"), dst=ip_address("172.16.0.4"))
    assert matcher.match(blocked, from_bad)[0] is True
    assert matcher.match(blocked, from_ok)[0] is False
    assert matcher.match(not_allowed, from_ok)[0] is False  # dst in allowed-nets, negated
    assert matcher.match(not_allowed, to_elsewhere)[0] is True
    # types and directions the engine does not simulate stay undecidable, with the reason
    result, reason = matcher.match(ports, from_bad)
    assert result is None and "several directions" in reason
    result, reason = matcher.match(absent, from_bad)
    assert result is None and "not in the bundle" in reason


def test_without_the_sets_every_set_match_is_undecidable() -> None:
    blocked = _rules()[0]
    result, reason = RuleMatcher(set()).match(blocked, Packet(src=ip_address("10.0.0.9"), dst=ip_address("1.1.1.1")))
    assert result is None and "blocked" in reason
