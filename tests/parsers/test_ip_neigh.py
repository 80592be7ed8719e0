"""`ip neigh` states, flags and bad lines."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from netsnap.parsers import ip_neigh


def test_states_router_and_extra() -> None:
    text = ("10.244.1.0 dev flannel.1 lladdr 6e:8f:30:1a:2b:3c PERMANENT\n"
            "10.0.2.9 dev eth0  FAILED\n"
            "10.0.2.11 dev eth0 lladdr 52:55:0a:00:02:0b ref 1 used 1/2/3 probes 4 DELAY PROBE\n"
            "fe80::2 dev eth0 lladdr 52:56:00:00:00:02 router STALE\n"
            "10.0.2.12 dev eth0 lladdr 52:55:0a:00:02:0c extern_learn NOARP proto zebra\n")
    items = ip_neigh.parse(text, "neigh/ip-neigh").items
    assert [n.states for n in items] == [["PERMANENT"], ["FAILED"], ["DELAY", "PROBE"], ["STALE"], ["NOARP"]]
    assert items[0].address == IPv4Address("10.244.1.0") and items[0].lladdr == "6e:8f:30:1a:2b:3c"
    assert items[1].lladdr is None
    assert items[2].extra == {"ref": "1", "used": "1/2/3", "probes": "4"}
    assert items[3].address == IPv6Address("fe80::2") and items[3].router
    assert items[4].extra == {"extern_learn": "", "proto": "zebra"}


def test_truncated_lladdr_and_bad_address_are_unparsed() -> None:
    parsed = ip_neigh.parse("10.0.0.1 dev eth0 lladdr 52:54:0\n999.1.1.1 dev eth0 STALE\n", "x")
    assert parsed.items == [] and [u.line for u in parsed.unparsed] == [1, 2] and parsed.expected == 2
