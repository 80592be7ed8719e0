"""`ip rule` selectors and actions."""

from __future__ import annotations

from ipaddress import IPv4Network

from netsnap.parsers import ip_rule


def test_default_rules() -> None:
    text = "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n"
    parsed = ip_rule.parse(text, "rules")
    assert [(r.priority, r.table, r.from_net) for r in parsed.items] == [
        (0, "local", None), (32766, "main", None), (32767, "default", None)]
    assert parsed.expected == 3 and parsed.unparsed == []


def test_full_selector() -> None:
    text = "100:\tnot from 10.0.0.0/8 to 1.2.3.0/24 iif eth0 [detached] oif eth1 fwmark 0x1/0xff lookup 100\n"
    (rule,) = ip_rule.parse(text, "rules").items
    assert rule.invert and rule.from_net == IPv4Network("10.0.0.0/8") and rule.to_net == IPv4Network("1.2.3.0/24")
    assert (rule.iif, rule.oif, rule.fwmark, rule.table) == ("eth0", "eth1", "0x1/0xff", "100")
    assert rule.extra == {"detached": "iif"}


def test_actions() -> None:
    text = "1:\tfrom all goto 5\n2:\tfrom 10.0.0.1 blackhole\n3:\tfrom all unreachable\n4:\tfrom all prohibit\n"
    rules = ip_rule.parse(text, "rules").items
    assert [r.action for r in rules] == ["goto", "blackhole", "unreachable", "prohibit"]
    assert rules[0].extra["goto"] == "5" and rules[0].table is None
    assert rules[1].from_net == IPv4Network("10.0.0.1/32")


def test_other_selectors_into_extra() -> None:
    (rule,) = ip_rule.parse("5:\tfrom all uidrange 1000-2000 ipproto tcp dport 443 lookup 50 proto kernel\n", "r").items
    assert rule.extra == {"uidrange": "1000-2000", "ipproto": "tcp", "dport": "443", "proto": "kernel"}


def test_bad_address_is_unparsed() -> None:
    parsed = ip_rule.parse("5:\tfrom 10.0.0.0/40 lookup main\nfoo\n", "r")
    assert parsed.items == [] and [u.line for u in parsed.unparsed] == [1, 2] and parsed.expected == 2
